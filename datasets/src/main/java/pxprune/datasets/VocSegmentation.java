package pxprune.datasets;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pascal VOC 2012 semantic segmentation (21 classes: background and 20 objects) read from its on-disk
 * layout (http://host.robots.ox.ac.uk/pascal/VOC/voc2012/):
 * <pre>
 *   VOC2012/JPEGImages/&lt;id&gt;.jpg
 *   VOC2012/SegmentationClass/&lt;id&gt;.png        palette PNGs: the palette index is the class id, 255 = boundary
 *   VOC2012/SegmentationClassAug/&lt;id&gt;.png     (augmented set, SBD labels: 8-bit grayscale or palette PNGs)
 *   VOC2012/ImageSets/Segmentation/{train,val}.txt    one image id per line
 *   VOC2012/ImageSets/Segmentation/train_aug.txt      (or dataRoot/train_aug.txt)
 * </pre>
 * {@link #locate} accepts {@code dataRoot/VOCdevkit/VOC2012}, {@code dataRoot/VOC2012} or dataRoot itself.
 * <p>
 * Opening validates the untrusted files: the folders exist, every listed id is well formed
 * ({@value #ID_RULE}) and listed once, every id has its JPEG and label PNG, and no name or symbolic link
 * leads outside the VOC2012 folder. Nothing but the id list is held in memory: {@link #get} decodes the two
 * files each call (JPEGs in grayscale or CMYK become RGB; a JPEG and PNG of different sizes, a label PNG
 * that is not indexed, or a class index outside 0..20 other than 255 are refused naming the file), and
 * {@link #presentClasses} reads the label once and caches the answer. Immutable and thread-safe.
 */
public final class VocSegmentation implements SegDataset {

    /** VOC's 21 class names, indexed by class id. */
    public static final List<String> CLASS_NAMES = List.of("background", "aeroplane", "bicycle", "bird", "boat",
            "bottle", "bus", "car", "cat", "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person",
            "pottedplant", "sheep", "sofa", "train", "tvmonitor");
    public static final int NUM_CLASSES = 21;
    static final String ID_RULE = "letters, digits, '_', '-' and '.', not starting with '.', no '..'";
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9_.-]*");
    /** a DeepLab-style list line: "/JPEGImages/ID.jpg /SegmentationClassAug/ID.png" */
    private static final Pattern PAIR = Pattern.compile("/?JPEGImages/([^/\\s]+)\\.jpg\\s+/?(?:SegmentationClass|SegmentationClassAug)/([^/\\s]+)\\.png");
    private static final int MAX_NAMED_MISSING = 5;

    /** The three standard splits. */
    public enum Split {
        /** ImageSets/Segmentation/train.txt (1464 images), labels from SegmentationClass */
        TRAIN("train.txt", "SegmentationClass", false),
        /** ImageSets/Segmentation/val.txt (1449 images), labels from SegmentationClass */
        VAL("val.txt", "SegmentationClass", false),
        /** train_aug.txt (10582 images, VOC train + SBD), labels from SegmentationClassAug */
        TRAIN_AUG("train_aug.txt", "SegmentationClassAug", true);

        private final String listFile;
        private final String labelFolder;
        private final boolean grayscaleLabels;

        Split(String listFile, String labelFolder, boolean grayscaleLabels) {
            this.listFile = listFile;
            this.labelFolder = labelFolder;
            this.grayscaleLabels = grayscaleLabels;
        }

        /** The list file's name, e.g. {@code train.txt}. */
        public String listFile() { return listFile; }

        /** The label folder's name, e.g. {@code SegmentationClass}. */
        public String labelFolder() { return labelFolder; }
    }

    private final String name;
    private final Split split;
    private final Path root;
    private final Path imageDir;
    private final Path labelDir;
    private final List<String> ids;
    private final AtomicReferenceArray<int[]> present;

    private VocSegmentation(String name, Split split, Path root, Path imageDir, Path labelDir, List<String> ids) {
        this.name = name;
        this.split = split;
        this.root = root;
        this.imageDir = imageDir;
        this.labelDir = labelDir;
        this.ids = List.copyOf(ids);
        this.present = new AtomicReferenceArray<>(ids.size());
    }

    /**
     * Opens one split and validates its list and files (see the class comment); named
     * {@code name}, e.g. {@code voc2012-train}.
     *
     * @throws DatasetException naming the missing or bad folder, list line or file, with the expected layout
     */
    public static VocSegmentation open(Path dataRoot, Split split, String name) {
        Objects.requireNonNull(split, "split");
        Path root = locate(dataRoot);
        Path imageDir = DatasetException.requireDir(Images.inside(root, root, "JPEGImages", "the VOC layout"), help(dataRoot));
        Path labelDir = DatasetException.requireDir(Images.inside(root, root, split.labelFolder, "the VOC layout"),
                help(dataRoot) + (split == Split.TRAIN_AUG ? "\nSegmentationClassAug/ holds the augmented set's labels "
                        + "(SBD converted to VOC's format); add it, or use voc2012 (train.txt) instead of voc2012_aug." : ""));
        Path list = listFile(dataRoot, root, split);
        List<String> ids = readIds(list);
        List<String> missing = new ArrayList<>();
        int nMissing = 0;
        for (int i = 0; i < ids.size(); i++) {
            String where = list + " (id '" + ids.get(i) + "')";
            for (Path f : new Path[] {Images.inside(root, imageDir, ids.get(i) + ".jpg", where),
                    Images.inside(root, labelDir, ids.get(i) + ".png", where)}) {
                if (!Files.isRegularFile(f)) {
                    if (nMissing++ < MAX_NAMED_MISSING) missing.add(f.toString());
                }
            }
        }
        if (nMissing > 0) {
            throw new DatasetException(list + " lists ids whose files are missing: " + nMissing + " file"
                    + (nMissing == 1 ? "" : "s") + ", e.g. " + String.join(", ", missing)
                    + ". Every id needs JPEGImages/<id>.jpg and " + split.labelFolder + "/<id>.png.\n" + help(dataRoot));
        }
        return new VocSegmentation(name, split, root, imageDir, labelDir, ids);
    }

    /** {@link #open(Path, Split, String)} named {@code voc2012-train}, {@code voc2012-val} or {@code voc2012_aug-train}. */
    public static VocSegmentation open(Path dataRoot, Split split) {
        String name = switch (split) {
            case TRAIN -> "voc2012-train";
            case VAL -> "voc2012-val";
            case TRAIN_AUG -> "voc2012_aug-train";
        };
        return open(dataRoot, split, name);
    }

    /**
     * The VOC2012 folder (the one holding {@code JPEGImages/}): the first of {@code dataRoot/VOCdevkit/VOC2012},
     * {@code dataRoot/VOC2012} and {@code dataRoot} that has it.
     *
     * @throws DatasetException naming the three places looked at and the expected layout
     */
    public static Path locate(Path dataRoot) {
        Objects.requireNonNull(dataRoot, "dataRoot");
        for (Path p : new Path[] {dataRoot.resolve("VOCdevkit").resolve("VOC2012"), dataRoot.resolve("VOC2012"), dataRoot}) {
            if (Files.isDirectory(p.resolve("JPEGImages"))) return p.toAbsolutePath().normalize();
        }
        throw new DatasetException("Missing folder JPEGImages/ of Pascal VOC 2012: looked in "
                + dataRoot.resolve("VOCdevkit/VOC2012/JPEGImages").toAbsolutePath() + ", "
                + dataRoot.resolve("VOC2012/JPEGImages").toAbsolutePath() + " and "
                + dataRoot.resolve("JPEGImages").toAbsolutePath() + ".\n" + help(dataRoot));
    }

    private static Path listFile(Path dataRoot, Path root, Split split) {
        Path sets = Images.inside(root, root, "ImageSets/Segmentation", "the VOC layout");
        Path inSets = Images.inside(root, sets, split.listFile, "the VOC layout");
        if (split != Split.TRAIN_AUG || Files.isRegularFile(inSets)) {
            DatasetException.requireDir(sets, help(dataRoot));
            return DatasetException.requireFile(inSets, help(dataRoot));
        }
        for (Path p : new Path[] {root.resolve(split.listFile), dataRoot.resolve(split.listFile)}) {
            if (Files.isRegularFile(p)) return p;
        }
        throw new DatasetException("Missing file train_aug.txt: looked in " + inSets.toAbsolutePath() + ", "
                + root.resolve(split.listFile) + " and " + dataRoot.resolve(split.listFile).toAbsolutePath()
                + ". It lists the augmented set's 10582 training ids (one per line, or DeepLab's "
                + "'/JPEGImages/<id>.jpg /SegmentationClassAug/<id>.png' lines).\n" + help(dataRoot));
    }

    /** The ids of a list file, validated: well formed, each once, at least one. */
    static List<String> readIds(Path list) {
        List<String> lines;
        try {
            lines = Files.readAllLines(list, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DatasetException("Cannot read " + list + " (" + e + "); expected one VOC image id per line.", e);
        }
        List<String> ids = new ArrayList<>();
        Map<String, Integer> lineOf = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            String where = list + " line " + (i + 1);
            String id = line;
            Matcher m = PAIR.matcher(line);
            if (m.matches()) {
                if (!m.group(1).equals(m.group(2))) {
                    throw new DatasetException(where + " ('" + line + "') pairs image " + m.group(1) + " with label "
                            + m.group(2) + "; an image and its label must have the same id.");
                }
                id = m.group(1);
            }
            checkId(id, where);
            Integer first = lineOf.putIfAbsent(id, i + 1);
            if (first != null) {
                throw new DatasetException(where + " lists id '" + id + "' again (first on line " + first
                        + "); every image id must be listed once.");
            }
            ids.add(id);
        }
        if (ids.isEmpty()) {
            throw new DatasetException(list + " lists no image ids; expected one VOC image id (e.g. 2007_000032) per line.");
        }
        return ids;
    }

    private static void checkId(String id, String where) {
        String problem = id.contains("/") || id.contains("\\") ? "contains a path separator"
                : id.contains("..") ? "contains '..'"
                : !ID.matcher(id).matches() ? "has characters outside the rule" : null;
        if (problem != null) {
            throw new DatasetException(where + ": id '" + id + "' " + problem + "; a VOC image id has " + ID_RULE
                    + " (e.g. 2007_000032). Fix or remove the line.");
        }
    }

    private static String help(Path dataRoot) {
        return "Expected Pascal VOC 2012's layout under " + dataRoot.toAbsolutePath() + " (or its VOCdevkit/VOC2012/ or "
                + "VOC2012/):\n  JPEGImages/<id>.jpg\n  SegmentationClass/<id>.png  (palette PNGs)\n"
                + "  ImageSets/Segmentation/train.txt, val.txt\n  for voc2012_aug also SegmentationClassAug/<id>.png and "
                + "train_aug.txt (in ImageSets/Segmentation/ or the data root)\n"
                + "Fix: download VOCtrainval_11-May-2012.tar and unpack it into " + dataRoot.toAbsolutePath() + ".";
    }

    /**
     * VOC's colour map: entry k is the 0xRRGGBB colour of class k in the palette PNGs (bit-interleaved,
     * as in the devkit's labelcolormap); 256 entries, entry 255 (ignore) is 0xE0E0C0.
     */
    public static int[] palette() {
        int[] p = new int[256];
        for (int k = 0; k < 256; k++) {
            int r = 0, g = 0, b = 0, c = k;
            for (int j = 0; j < 8; j++) {
                r |= ((c) & 1) << (7 - j);
                g |= ((c >> 1) & 1) << (7 - j);
                b |= ((c >> 2) & 1) << (7 - j);
                c >>= 3;
            }
            p[k] = (r << 16) | (g << 8) | b;
        }
        return p;
    }

    @Override public String name() { return name; }
    @Override public int size() { return ids.size(); }
    @Override public int numClasses() { return NUM_CLASSES; }
    @Override public int channels() { return Images.CHANNELS; }
    @Override public List<String> classNames() { return CLASS_NAMES; }

    /** The split this set was opened from. */
    public Split split() { return split; }

    /** The VOC2012 folder the files are read from. */
    public Path root() { return root; }

    /** The image ids in list order. */
    public List<String> ids() { return ids; }

    /** Example i's JPEG file. */
    public Path imageFile(int i) { return imageDir.resolve(ids.get(i) + ".jpg"); }

    /** Example i's label PNG. */
    public Path labelFile(int i) { return labelDir.resolve(ids.get(i) + ".png"); }

    /** Decodes example i: the JPEG as RGB in [0, 1] and the label PNG as class ids (see the class comment). */
    @Override
    public SegSample get(int i) {
        Objects.checkIndex(i, ids.size());
        Path jpg = imageFile(i), png = labelFile(i);
        Images.Rgb rgb = Images.readRgb(jpg);
        Label label = readLabel(png);
        if (rgb.width() != label.w || rgb.height() != label.h) {
            throw new DatasetException("Image " + jpg + " is " + rgb.width() + " x " + rgb.height() + " pixels but its label "
                    + png + " is " + label.w + " x " + label.h + "; an image and its label must have the same size. "
                    + "Replace the mismatched file or remove id '" + ids.get(i) + "' from the list.");
        }
        int plane = label.w * label.h;
        float[] x = new float[Images.CHANNELS * plane];
        int[] px = rgb.pixels();
        for (int p = 0; p < plane; p++) {
            x[p] = ((px[p] >> 16) & 0xFF) / 255f;
            x[plane + p] = ((px[p] >> 8) & 0xFF) / 255f;
            x[2 * plane + p] = (px[p] & 0xFF) / 255f;
        }
        if (present.get(i) == null) present.compareAndSet(i, null, classesOf(label.values));
        return new SegSample(x, label.values, Images.CHANNELS, label.h, label.w);
    }

    @Override
    public int[] presentClasses(int i) {
        Objects.checkIndex(i, ids.size());
        int[] c = present.get(i);
        if (c == null) {
            present.compareAndSet(i, null, classesOf(readLabel(labelFile(i)).values));
            c = present.get(i);
        }
        return c.clone();
    }

    private static int[] classesOf(int[] label) {
        boolean[] seen = new boolean[NUM_CLASSES];
        for (int v : label) if (v != IGNORE) seen[v] = true;
        int n = 0;
        for (boolean s : seen) if (s) n++;
        int[] out = new int[n];
        n = 0;
        for (int k = 0; k < NUM_CLASSES; k++) if (seen[k]) out[n++] = k;
        return out;
    }

    private record Label(int[] values, int w, int h) {
    }

    /** Reads a label PNG as class ids: the palette index (or, for the aug split, the gray value), checked. */
    private Label readLabel(Path png) {
        BufferedImage img = Images.read(png);
        Raster r = img.getRaster();
        boolean indexed = img.getColorModel() instanceof IndexColorModel && r.getNumBands() == 1;
        boolean gray = r.getNumBands() == 1 && !indexed && img.getColorModel().getComponentSize(0) == 8;
        if (!indexed && !(gray && split.grayscaleLabels)) {
            String kind = r.getNumBands() == 1 ? img.getColorModel().getComponentSize(0) + "-bit grayscale"
                    : r.getNumBands() + "-channel (RGB/RGBA) colour";
            throw new DatasetException("Label " + png + " is a " + kind + " PNG, not " + (split.grayscaleLabels
                    ? "a palette (indexed) or 8-bit grayscale PNG" : "a palette (indexed) PNG")
                    + ": VOC labels are palette PNGs whose palette index is the class id (0..20, 255 = ignore)"
                    + (split.grayscaleLabels ? " or, in SegmentationClassAug, grayscale PNGs whose gray value is the class id" : "")
                    + ". Use the original file; a label re-saved as RGB loses its class indices.");
        }
        int w = img.getWidth(), h = img.getHeight();
        int[] v = r.getSamples(0, 0, w, h, 0, (int[]) null);
        for (int p = 0; p < v.length; p++) {
            if (v[p] >= NUM_CLASSES && v[p] != IGNORE) {
                throw new DatasetException("Label " + png + " has class index " + v[p] + " at (x=" + p % w + ", y=" + p / w
                        + "); VOC class ids are 0..20 and 255 (boundary, ignored). The file is not a VOC label; "
                        + "replace it or remove its id from the list.");
            }
        }
        return new Label(v, w, h);
    }

    @Override
    public String toString() {
        return "VocSegmentation[" + name + ": " + ids.size() + " images from " + root + "]";
    }
}
