package pxprune.datasets;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The pruning data D: a fixed class-balanced subset, exactly k examples of every class drawn at random
 * with a seed (default k = 10), saved as CSV in a run folder so every round and every method uses the
 * same examples.
 */
public final class PruningSplit {

    public static final int DEFAULT_PER_CLASS = 10;
    public static final String CSV_HEADER = "index,label";

    private PruningSplit() {
    }

    /** The examples of a saved split: {@code labels[i]} is the label of example {@code indices[i]}. */
    public record Selection(int[] indices, int[] labels) {
        /**
         * Checks that every index exists in {@code data} with the recorded label.
         *
         * @throws DatasetException naming the first mismatch
         */
        public void checkAgainst(Dataset data) {
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

    /** {@link #select(Dataset, int, long)} with {@value #DEFAULT_PER_CLASS} examples per class. */
    public static int[] select(Dataset data, long seed) {
        return select(data, DEFAULT_PER_CLASS, seed);
    }

    /**
     * Draws {@code perClass} distinct examples of every class at random. The result lists class 0's
     * examples in the order they were drawn, then class 1's, and so on. Deterministic for a seed.
     *
     * @throws IllegalArgumentException if perClass < 1 or a class has fewer than perClass examples
     */
    public static int[] select(Dataset data, int perClass, long seed) {
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
    public static void write(Path csv, int[] idx, Dataset data) {
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
}
