package pxprune.datasets;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The pruning data D: a fixed class-balanced subset, exactly k examples of every class drawn at random
 * with a seed (default k = 10), saved as CSV in a run folder so every round and every method uses the
 * same examples. For segmentation sets, {@link #selectSegmentation} draws images until every class is
 * present in k of them, saved as CSV {@value #SEG_CSV_HEADER}.
 */
public final class PruningSplit {

    public static final int DEFAULT_PER_CLASS = 10;
    public static final String CSV_HEADER = "index,label";
    public static final String SEG_CSV_HEADER = "index,classes";

    private PruningSplit() {
    }

    /** The examples of a saved split: {@code labels[i]} is the label of example {@code indices[i]}. */
    public record Selection(int[] indices, int[] labels) {
        /**
         * Checks that every index exists in {@code data} with the recorded label.
         *
         * @throws DatasetException naming the first mismatch
         */
        public void checkAgainst(ImageSet data) {
            for (int i = 0; i < indices.length; i++) {
                if (indices[i] >= data.size() || data.label(indices[i]) != labels[i]) {
                    throw new DatasetException("Pruning split row " + (i + 1) + " (index " + indices[i] + ", label "
                            + labels[i] + ") does not match " + data + (indices[i] >= data.size() ? " (index out of range)"
                            : " (its label there is " + data.label(indices[i]) + ")")
                            + "; the split was made for another dataset. Delete the CSV to draw a new split.");
                }
            }
        }
    }

    /** {@link #select(ImageSet, int, long)} with {@value #DEFAULT_PER_CLASS} examples per class. */
    public static int[] select(ImageSet data, long seed) {
        return select(data, DEFAULT_PER_CLASS, seed);
    }

    /**
     * Draws {@code perClass} distinct examples of every class at random. The result lists class 0's
     * examples in the order they were drawn, then class 1's, and so on. Deterministic for a seed.
     *
     * @throws IllegalArgumentException if perClass < 1 or a class has fewer than perClass examples
     */
    public static int[] select(ImageSet data, int perClass, long seed) {
        if (perClass < 1) throw new IllegalArgumentException("perClass must be >= 1, got " + perClass);
        int[][] byClass = data.indicesByClass();
        for (int c = 0; c < byClass.length; c++) {
            if (byClass[c].length < perClass) {
                throw new IllegalArgumentException("Cannot draw " + perClass + " examples per class from " + data
                        + ": class " + c + " has only " + byClass[c].length
                        + ". Use perClass <= " + Arrays.stream(byClass).mapToInt(a -> a.length).min().orElse(0)
                        + " or a dataset with more examples of that class.");
            }
        }
        SplittableRandom rng = Seeds.rng(seed);
        int[] out = new int[byClass.length * perClass];
        for (int c = 0; c < byClass.length; c++) {
            System.arraycopy(Seeds.shuffle(byClass[c], rng), 0, out, c * perClass, perClass);
        }
        return out;
    }

    /** Writes {@code idx} with the labels they have in {@code data}; see {@link #write(Path, int[], int[])}. */
    public static void write(Path csv, int[] idx, ImageSet data) {
        write(csv, idx, Arrays.stream(idx).map(data::label).toArray());
    }

    /**
     * Writes a CSV with header {@value #CSV_HEADER} and one row per example; {@code labels[i]} is the
     * label of example {@code idx[i]}. Creates missing parent folders.
     */
    public static void write(Path csv, int[] idx, int[] labels) {
        if (idx.length != labels.length) {
            throw new IllegalArgumentException("write " + csv + ": " + idx.length + " indices but " + labels.length
                    + " labels; pass the label of each selected example (labels[i] for idx[i]), "
                    + "or use write(csv, idx, dataset).");
        }
        try {
            Path parent = csv.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            try (BufferedWriter out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
                out.write(CSV_HEADER);
                out.write('\n');
                for (int i = 0; i < idx.length; i++) {
                    out.write(idx[i] + "," + labels[i] + "\n");
                }
            }
        } catch (IOException e) {
            throw new DatasetException("Cannot write pruning split " + csv + ": " + e, e);
        }
    }

    /**
     * Reads a CSV written by {@link #write}.
     *
     * @throws DatasetException if the file is missing or not in the expected format
     */
    public static Selection read(Path csv) {
        List<String> lines;
        try {
            lines = Files.readAllLines(DatasetException.requireFile(csv,
                    "Expected a CSV written by PruningSplit.write (header '" + CSV_HEADER + "')."), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DatasetException("Cannot read pruning split " + csv + ": " + e, e);
        }
        if (lines.isEmpty() || !lines.get(0).strip().equals(CSV_HEADER)) {
            throw new DatasetException(csv + " does not start with the header '" + CSV_HEADER
                    + "'; it is not a pruning split written by PruningSplit.write.");
        }
        int[] idx = new int[lines.size() - 1];
        int[] labels = new int[lines.size() - 1];
        int n = 0;
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            String[] f = line.split(",");
            try {
                if (f.length != 2) throw new NumberFormatException("expected 2 fields, got " + f.length);
                idx[n] = Integer.parseInt(f[0].strip());
                labels[n] = Integer.parseInt(f[1].strip());
                if (idx[n] < 0 || labels[n] < 0) throw new NumberFormatException("negative value");
            } catch (NumberFormatException e) {
                throw new DatasetException(csv + " line " + (i + 1) + " ('" + line + "') is not 'index,label' with two "
                        + "non-negative integers (" + e.getMessage() + ").");
            }
            n++;
        }
        return new Selection(Arrays.copyOf(idx, n), Arrays.copyOf(labels, n));
    }

    /** The images of a saved segmentation split: {@code classes[i]} are the classes present in image {@code indices[i]}. */
    public record SegSelection(int[] indices, int[][] classes) {
        /**
         * Checks that every index exists in {@code data} with the recorded present classes.
         *
         * @throws DatasetException naming the first mismatch
         */
        public void checkAgainst(SegDataset data) {
            for (int i = 0; i < indices.length; i++) {
                int[] there = indices[i] < data.size() ? data.presentClasses(indices[i]) : null;
                if (there == null || !Arrays.equals(there, classes[i])) {
                    throw new DatasetException("Pruning split row " + (i + 1) + " (index " + indices[i] + ", classes "
                            + join(classes[i]) + ") does not match " + data.name() + " (" + data.size() + " images"
                            + (there == null ? "; index out of range)" : "; its classes there are " + join(there) + ")")
                            + "; the split was made for another dataset. Delete the CSV to draw a new split.");
                }
            }
        }
    }

    /** {@link #selectSegmentation(SegDataset, int, long)} with {@value #DEFAULT_PER_CLASS} images per class. */
    public static int[] selectSegmentation(SegDataset data, long seed) {
        return selectSegmentation(data, DEFAULT_PER_CLASS, seed);
    }

    /**
     * Draws images until every class is present in at least {@code perClass} of them. For each class c in
     * order 0, 1, ...: the images already chosen that contain c are counted, and images containing c not yet
     * chosen are drawn at random (one shuffle of them per class, from one generator seeded with {@code seed})
     * until perClass chosen images contain c. No image is chosen twice; the result lists the images in the
     * order they were drawn. Deterministic for a seed. Reads every image's present classes
     * ({@link SegDataset#presentClasses}, in parallel) once.
     *
     * @throws IllegalArgumentException if perClass < 1 or a class is present in fewer than perClass images
     *                                  (the message names the class and how many images have it)
     */
    public static int[] selectSegmentation(SegDataset data, int perClass, long seed) {
        if (perClass < 1) throw new IllegalArgumentException("perClass must be >= 1, got " + perClass);
        int n = data.size(), k = data.numClasses();
        int[][] present = IntStream.range(0, n).parallel().mapToObj(data::presentClasses).toArray(int[][]::new);
        int[] imagesWith = new int[k];
        for (int i = 0; i < n; i++) {
            for (int c : present[i]) {
                if (c < 0 || c >= k) {
                    throw new IllegalArgumentException(data.name() + ": image " + i + " has class " + c
                            + " outside [0, " + k + "); presentClasses must give class ids of the set");
                }
                imagesWith[c]++;
            }
        }
        for (int c = 0; c < k; c++) {
            if (imagesWith[c] < perClass) {
                throw new IllegalArgumentException("Cannot draw " + perClass + " images per class from " + data.name()
                        + ": class " + c + " (" + data.classNames().get(c) + ") is present in only " + imagesWith[c]
                        + " of its " + n + " images. Use perClass <= " + Arrays.stream(imagesWith).min().orElse(0)
                        + " or a dataset with more images of that class.");
            }
        }
        SplittableRandom rng = Seeds.rng(seed);
        boolean[] chosen = new boolean[n];
        int[] have = new int[k];
        int[] out = new int[n];
        int m = 0;
        for (int c = 0; c < k; c++) {
            if (have[c] >= perClass) continue;
            int[] candidates = new int[imagesWith[c]];
            int nc = 0;
            for (int i = 0; i < n; i++) {
                if (!chosen[i] && Arrays.binarySearch(present[i], c) >= 0) candidates[nc++] = i;
            }
            Seeds.shuffle(candidates = Arrays.copyOf(candidates, nc), rng);
            for (int j = 0; have[c] < perClass; j++) {
                int i = candidates[j];
                chosen[i] = true;
                out[m++] = i;
                for (int cls : present[i]) have[cls]++;
            }
        }
        return Arrays.copyOf(out, m);
    }

    /** Writes {@code idx} with the classes present in them in {@code data}; see {@link #writeSegmentation(Path, int[], int[][])}. */
    public static void writeSegmentation(Path csv, int[] idx, SegDataset data) {
        writeSegmentation(csv, idx, Arrays.stream(idx).mapToObj(data::presentClasses).toArray(int[][]::new));
    }

    /**
     * Writes a CSV with header {@value #SEG_CSV_HEADER} and one row per image: its index and the sorted
     * classes present in it joined by ';' (e.g. {@code 17,0;5;15}). Creates missing parent folders.
     */
    public static void writeSegmentation(Path csv, int[] idx, int[][] classes) {
        if (idx.length != classes.length) {
            throw new IllegalArgumentException("writeSegmentation " + csv + ": " + idx.length + " indices but "
                    + classes.length + " class lists; pass the present classes of each selected image, "
                    + "or use writeSegmentation(csv, idx, dataset).");
        }
        StringBuilder sb = new StringBuilder(SEG_CSV_HEADER).append('\n');
        for (int i = 0; i < idx.length; i++) sb.append(idx[i]).append(',').append(join(classes[i])).append('\n');
        try {
            Path parent = csv.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            Files.writeString(csv, sb, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DatasetException("Cannot write pruning split " + csv + ": " + e, e);
        }
    }

    /**
     * Reads a CSV written by {@link #writeSegmentation}.
     *
     * @throws DatasetException if the file is missing or not in the expected format
     */
    public static SegSelection readSegmentation(Path csv) {
        List<String> lines;
        try {
            lines = Files.readAllLines(DatasetException.requireFile(csv, "Expected a CSV written by "
                    + "PruningSplit.writeSegmentation (header '" + SEG_CSV_HEADER + "')."), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DatasetException("Cannot read pruning split " + csv + ": " + e, e);
        }
        if (lines.isEmpty() || !lines.get(0).strip().equals(SEG_CSV_HEADER)) {
            throw new DatasetException(csv + " does not start with the header '" + SEG_CSV_HEADER
                    + "'; it is not a segmentation pruning split written by PruningSplit.writeSegmentation"
                    + (!lines.isEmpty() && lines.get(0).strip().equals(CSV_HEADER) ? " (it is a classification split)" : "")
                    + ".");
        }
        List<Integer> idx = new ArrayList<>();
        List<int[]> classes = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            String[] f = line.split(",", -1);
            try {
                if (f.length != 2) throw new NumberFormatException("expected 2 fields, got " + f.length);
                int index = Integer.parseInt(f[0].strip());
                String[] cs = f[1].strip().isEmpty() ? new String[0] : f[1].strip().split(";", -1);
                int[] c = new int[cs.length];
                for (int j = 0; j < cs.length; j++) {
                    c[j] = Integer.parseInt(cs[j].strip());
                    if (c[j] < 0 || (j > 0 && c[j] <= c[j - 1])) throw new NumberFormatException("classes not ascending ids");
                }
                if (index < 0) throw new NumberFormatException("negative index");
                idx.add(index);
                classes.add(c);
            } catch (NumberFormatException e) {
                throw new DatasetException(csv + " line " + (i + 1) + " ('" + line + "') is not 'index,classes' with a "
                        + "non-negative index and ascending class ids joined by ';' (" + e.getMessage() + ").");
            }
        }
        return new SegSelection(idx.stream().mapToInt(Integer::intValue).toArray(), classes.toArray(int[][]::new));
    }

    private static String join(int[] a) {
        return Arrays.stream(a).mapToObj(Integer::toString).collect(Collectors.joining(";"));
    }
}
