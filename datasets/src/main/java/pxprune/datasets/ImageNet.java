package pxprune.datasets;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * ImageNet (ILSVRC2012 CLS-LOC) as distributed, indexed for streaming ({@link ImageFiles}): nothing is
 * decoded here. Under {@code dataRoot/imagenet/}:
 * <ul>
 * <li>{@code train/<wnid>/*.JPEG}: the classes are the sub-folders of train/, sorted by name and numbered
 *     from 0 (torchvision's ImageFolder order); examples ordered by class, then file name;</li>
 * <li>validation either in class folders, {@code val/<wnid>/*.JPEG} (every folder a class of train/), or
 *     flat, {@code val/*.JPEG} as distributed, labelled by {@value #SOLUTION} next to val/ (the CLS-LOC
 *     ground truth: header {@code ImageId,PredictionString}, rows {@code ILSVRC2012_val_00000001,n01751748 x0 y0 x1 y1
 *     [n01751748 ...]}, the class is the wnid of the boxes); examples ordered by file name.</li>
 * </ul>
 * The flat layout is checked strictly: every row names an existing {@code val/<ImageId>.JPEG} once, with
 * boxes of one wnid that is a class of train/, and every image of val/ has a row. The devkit's
 * {@code ILSVRC2012_validation_ground_truth.txt} is not read: its class numbers follow the devkit's
 * meta.mat, not the sorted wnids, so a list of wnids beside it cannot be checked; a clear error says so.
 * File extensions .JPEG, .jpg, .png in any case; hidden files are ignored; nothing may lead outside
 * {@code imagenet/} through links.
 */
public final class ImageNet {

    public static final String FOLDER = "imagenet";
    public static final String SOLUTION = "LOC_val_solution.csv";
    static final String DEVKIT_GROUND_TRUTH = "ILSVRC2012_validation_ground_truth.txt";
    /** the side of the network's input, torchvision's 224 */
    public static final int SIDE = 224;
    /** the largest ground-truth file read (the real one is about 2.5 MB) */
    static final long MAX_SOLUTION_BYTES = 64L << 20;
    private static final Set<String> EXTENSIONS = Set.of("jpeg", "jpg", "png");
    private static final Pattern IMAGE_ID = Pattern.compile("[A-Za-z0-9_-]+");

    private ImageNet() {
    }

    /**
     * Indexes the train split or the validation split of {@code dataRoot/imagenet}.
     *
     * @throws DatasetException if a folder or the ground truth is missing or malformed (the message names it)
     */
    public static ImageFiles open(Path dataRoot, boolean train) {
        Path dir = DatasetException.requireDir(dataRoot.resolve(FOLDER), help(dataRoot));
        Path trainDir = DatasetException.requireDir(Images.inside(dir, dir, "train", "the ImageNet layout"), help(dataRoot));
        List<String> classes = Images.list(dir, trainDir, n -> true, Files::isDirectory).stream()
                .map(p -> p.getFileName().toString()).toList();
        if (classes.isEmpty()) throw new DatasetException("Folder " + trainDir + " has no class sub-folders.\n" + help(dataRoot));
        Map<String, Integer> classOf = new HashMap<>();
        for (int k = 0; k < classes.size(); k++) classOf.put(classes.get(k), k);
        if (train) return classFolders(dir, trainDir, classes, classOf, "imagenet-train", dataRoot);
        Path val = DatasetException.requireDir(Images.inside(dir, dir, "val", "the ImageNet layout"), help(dataRoot));
        if (!Images.list(dir, val, n -> true, Files::isDirectory).isEmpty()) {
            return classFolders(dir, val, classes, classOf, "imagenet-val", dataRoot);
        }
        return flatVal(dir, val, classes, classOf, dataRoot);
    }

    /** root/<class>/files: every sub-folder must be a known class and hold an image */
    private static ImageFiles classFolders(Path dir, Path root, List<String> classes, Map<String, Integer> classOf, String name,
                                           Path dataRoot) {
        List<Path> sub = Images.list(dir, root, n -> true, Files::isDirectory);
        List<Path> stray = Images.listFiles(dir, root, EXTENSIONS);
        if (!stray.isEmpty()) {
            throw new DatasetException("Folder " + root + " has both class folders and images (e.g. " + stray.get(0).getFileName()
                    + "); expected only class folders <wnid>/ there. Move the images into their class folders.\n" + help(dataRoot));
        }
        Path[] folders = new Path[sub.size()];
        List<String> names = new ArrayList<>();
        List<Integer> labels = new ArrayList<>(), folderOf = new ArrayList<>();
        for (int f = 0; f < sub.size(); f++) {
            Path d = sub.get(f);
            String wnid = d.getFileName().toString();
            Integer k = classOf.get(wnid);
            if (k == null) {
                throw new DatasetException("Folder " + d + " is class " + wnid + ", which is not a class folder of "
                        + dir.resolve("train") + "; every validation class must be a training class. Remove it or add the class to train/.");
            }
            List<Path> found = Images.listFiles(dir, d, EXTENSIONS);
            if (found.isEmpty()) {
                throw new DatasetException("Class folder " + d + " has no .JPEG, .jpg or .png files; remove it or add its images.");
            }
            folders[f] = d;
            for (Path p : found) {
                names.add(p.getFileName().toString());
                labels.add(k);
                folderOf.add(f);
            }
        }
        return new ImageFiles(name, classes, folders, ints(folderOf), names.toArray(String[]::new), ints(labels), SIDE, null);
    }

    /** val/*.JPEG labelled by LOC_val_solution.csv */
    private static ImageFiles flatVal(Path dir, Path val, List<String> classes, Map<String, Integer> classOf, Path dataRoot) {
        Path csv = Images.inside(dir, dir, SOLUTION, "the ImageNet layout");
        if (!Files.isRegularFile(csv)) {
            Path devkit = dir.resolve(DEVKIT_GROUND_TRUTH);
            throw new DatasetException("Missing file " + csv.toAbsolutePath() + ": the validation images in " + val
                    + " are not in class folders, so their labels must come from " + SOLUTION + " (ImageId,PredictionString)."
                    + (Files.exists(devkit) ? " " + devkit.getFileName() + " is there but is not read: its class numbers follow the "
                    + "devkit's meta.mat, which cannot be checked against the wnids of train/." : "")
                    + " Fix: put " + SOLUTION + " (from the ILSVRC2012 CLS-LOC download) in " + dir
                    + ", or sort the validation images into val/<wnid>/ folders.\n" + help(dataRoot));
        }
        Map<String, Integer> labelOf = readSolution(csv, classOf);
        List<Path> found = Images.listFiles(dir, val, EXTENSIONS);
        if (found.isEmpty()) throw new DatasetException("Folder " + val + " has no .JPEG, .jpg or .png files.\n" + help(dataRoot));
        String[] names = new String[found.size()];
        int[] labels = new int[found.size()];
        Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < found.size(); i++) {
            String file = found.get(i).getFileName().toString();
            String id = file.substring(0, file.lastIndexOf('.'));
            Integer k = labelOf.get(id);
            if (k == null) {
                throw new DatasetException("Validation image " + found.get(i) + " has no row in " + csv + " (ImageId " + id
                        + "); remove the image or use the " + SOLUTION + " that came with it.");
            }
            if (!seen.add(id)) throw new DatasetException("Validation images " + val.resolve(id) + ".* : two files have ImageId " + id
                    + "; keep one.");
            names[i] = file;
            labels[i] = k;
        }
        for (String id : labelOf.keySet()) {
            if (!seen.contains(id)) {
                throw new DatasetException(csv + " lists ImageId " + id + " but " + val.resolve(id + ".JPEG")
                        + " is missing; restore the image or use the " + SOLUTION + " of these images.");
            }
        }
        return new ImageFiles("imagenet-val", classes, new Path[] {val}, new int[names.length], names, labels, SIDE, null);
    }

    /** ImageId -> class id, from the CLS-LOC ground truth, checked row by row */
    static Map<String, Integer> readSolution(Path csv, Map<String, Integer> classOf) {
        List<String> lines;
        try {
            long bytes = Files.size(csv);
            if (bytes > MAX_SOLUTION_BYTES) {
                throw new DatasetException(csv + " has " + bytes + " bytes, more than the " + MAX_SOLUTION_BYTES
                        + " a ground-truth file of ImageNet's size can have; use the " + SOLUTION + " of the CLS-LOC download.");
            }
            lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DatasetException("Cannot read " + csv + ": " + e, e);
        }
        String header = lines.isEmpty() ? "" : lines.get(0).replace("\uFEFF", "").strip();
        if (!header.equals("ImageId,PredictionString")) {
            throw new DatasetException(csv + " starts with '" + header + "', expected the header 'ImageId,PredictionString' of "
                    + "the CLS-LOC validation ground truth.");
        }
        Map<String, Integer> out = new LinkedHashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            String where = csv + " line " + (i + 1) + " ('" + (line.length() > 80 ? line.substring(0, 80) + "..." : line) + "')";
            int comma = line.indexOf(',');
            String id = comma < 0 ? line : line.substring(0, comma);
            String[] boxes = comma < 0 ? new String[0] : line.substring(comma + 1).strip().split("\\s+");
            if (comma < 0 || !IMAGE_ID.matcher(id).matches() || boxes.length < 5 || boxes.length % 5 != 0) {
                throw new DatasetException(where + " is not 'ImageId,wnid x0 y0 x1 y1 [wnid x0 y0 x1 y1 ...]' with an ImageId of "
                        + "letters, digits and '_' (e.g. ILSVRC2012_val_00000001).");
            }
            String wnid = boxes[0];
            for (int b = 5; b < boxes.length; b += 5) {
                if (!boxes[b].equals(wnid)) {
                    throw new DatasetException(where + " has boxes of two classes (" + wnid + " and " + boxes[b]
                            + "); a classification label needs one class per image.");
                }
            }
            Integer k = classOf.get(wnid);
            if (k == null) {
                throw new DatasetException(where + " names class " + wnid + ", which has no folder in train/; the ground truth "
                        + "and the training folders must be of the same ImageNet.");
            }
            if (out.put(id, k) != null) throw new DatasetException(where + " repeats ImageId " + id + "; list each image once.");
        }
        if (out.isEmpty()) throw new DatasetException(csv + " has no rows after its header; expected one row per validation image.");
        return out;
    }

    private static int[] ints(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    private static String help(Path dataRoot) {
        Path d = dataRoot.resolve(FOLDER);
        return "Expected layout:\n  " + d.resolve("train/<wnid>/*.JPEG") + "\n  " + d.resolve("val/*.JPEG") + " with "
                + d.resolve(SOLUTION) + ", or " + d.resolve("val/<wnid>/*.JPEG") + "\nFix: extract ILSVRC2012_img_train.tar "
                + "(and its per-class tars) into train/ and ILSVRC2012_img_val.tar into val/, or link the Kaggle download's "
                + "ILSVRC/Data/CLS-LOC/train and val there with LOC_val_solution.csv next to them.";
    }
}
