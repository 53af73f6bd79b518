package pxprune.datasets;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tiny-ImageNet-200 as distributed (64x64 RGB JPEGs, 200 classes). Classes are numbered in the order
 * of {@code wnids.txt}. Train examples are ordered by class, then by file name; validation examples
 * follow {@code val_annotations.txt}. Grayscale images are replicated to RGB; an image that is not
 * 64x64 is resized and center-cropped to 64x64. Names in wnids.txt and val_annotations.txt, and the
 * image files found, must resolve inside {@code tiny-imagenet-200/} (no '..', absolute paths or links out).
 */
public final class TinyImageNet {

    public static final String FOLDER = "tiny-imagenet-200";
    public static final int SIDE = 64;
    private static final Set<String> EXTENSIONS = Set.of("jpeg");

    private TinyImageNet() {
    }

    /**
     * Loads the train split (train/&lt;wnid&gt;/images/*.JPEG) or the validation split (val/images/*.JPEG
     * labelled by val/val_annotations.txt) from {@code dataRoot/tiny-imagenet-200}.
     *
     * @throws DatasetException if a folder, file or class is missing, or an image cannot be decoded
     */
    public static Dataset load(Path dataRoot, boolean train) {
        Path dir = DatasetException.requireDir(dataRoot.resolve(FOLDER), help(dataRoot));
        List<String> wnids = classes(dataRoot);
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        if (train) {
            for (int k = 0; k < wnids.size(); k++) {
                Path images = DatasetException.requireDir(Images.inside(dir, dir.resolve("train").resolve(wnids.get(k)),
                        "images", "class " + wnids.get(k)), help(dataRoot));
                List<Path> found = Images.listFiles(dir, images, EXTENSIONS);
                if (found.isEmpty()) {
                    throw new DatasetException("Folder " + images + " has no .JPEG files, but class " + wnids.get(k)
                            + " is listed in wnids.txt.\n" + help(dataRoot));
                }
                files.addAll(found);
                labels.addAll(Collections.nCopies(found.size(), k));
            }
        } else {
            Path val = DatasetException.requireDir(Images.inside(dir, dir, "val", "the Tiny-ImageNet layout"), help(dataRoot));
            Path annotations = DatasetException.requireFile(
                    Images.inside(dir, val, "val_annotations.txt", "the Tiny-ImageNet layout"), help(dataRoot));
            Path images = DatasetException.requireDir(Images.inside(dir, val, "images", "the Tiny-ImageNet layout"), help(dataRoot));
            Map<String, Integer> classOf = new HashMap<>();
            for (int k = 0; k < wnids.size(); k++) classOf.put(wnids.get(k), k);
            List<String> lines = readLines(annotations);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) continue;
                String[] f = lines.get(i).strip().split("\\s+");
                Integer k = f.length >= 2 ? classOf.get(f[1]) : null;
                if (k == null) {
                    throw new DatasetException(annotations + " line " + (i + 1) + " ('" + lines.get(i).strip() + "') "
                            + (f.length < 2 ? "has fewer than 2 fields" : "names class " + f[1] + ", which is not in wnids.txt")
                            + "; expected 'file<TAB>wnid<TAB>x0<TAB>y0<TAB>x1<TAB>y1' with a wnid from wnids.txt.");
                }
                Path image = Images.inside(dir, images, f[0], annotations + " line " + (i + 1));
                files.add(DatasetException.requireFile(image, help(dataRoot)));
                labels.add(k);
            }
            if (files.isEmpty()) {
                throw new DatasetException(annotations + " lists no images.\n" + help(dataRoot));
            }
        }
        float[] x = Images.loadAll(files, SIDE, SIDE);
        int[] y = labels.stream().mapToInt(Integer::intValue).toArray();
        return Dataset.wrap(x, y, Images.CHANNELS, SIDE, SIDE, wnids.size(), train ? "tiny-imagenet-train" : "tiny-imagenet-val");
    }

    /**
     * The class ids (WordNet ids) in label order, as listed in {@code dataRoot/tiny-imagenet-200/wnids.txt}.
     *
     * @throws DatasetException if the file is missing, empty, lists a class twice or names a folder outside
     *                          tiny-imagenet-200/
     */
    public static List<String> classes(Path dataRoot) {
        Path dir = DatasetException.requireDir(dataRoot.resolve(FOLDER), help(dataRoot));
        Path file = DatasetException.requireFile(Images.inside(dir, dir, "wnids.txt", "the Tiny-ImageNet layout"), help(dataRoot));
        List<String> wnids = new ArrayList<>();
        List<String> lines = readLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String id = lines.get(i).strip();
            if (id.isEmpty()) continue;
            Images.inside(dir, dir.resolve("train"), id, file + " line " + (i + 1));
            if (wnids.contains(id)) {
                throw new DatasetException(file + " lists class " + id + " twice; expected one WordNet id per line.");
            }
            wnids.add(id);
        }
        if (wnids.isEmpty()) {
            throw new DatasetException(file + " is empty; expected one WordNet id (e.g. n01443537) per line.\n" + help(dataRoot));
        }
        return wnids;
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DatasetException("Cannot read " + file + ": " + e, e);
        }
    }

    private static String help(Path dataRoot) {
        Path d = dataRoot.resolve(FOLDER);
        return "Expected layout:\n  " + d.resolve("wnids.txt") + "\n  " + d.resolve("train/<wnid>/images/*.JPEG")
                + "\n  " + d.resolve("val/val_annotations.txt") + "  (lines: file<TAB>wnid<TAB>box...)\n  "
                + d.resolve("val/images/*.JPEG")
                + "\nFix: download http://cs231n.stanford.edu/tiny-imagenet-200.zip and unzip it into " + dataRoot + ".";
    }
}
