package pxprune.datasets;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The one place that maps dataset names to loaders. Every loader returns pixels in [0, 1]; normalize
 * with {@link Transforms#normalize(Dataset, ChannelStats)} and {@link #stats(String)} where wanted.
 * <ul>
 * <li>{@code digits}: embedded 1x8x8, 10 classes; train/test = {@code stratifiedSplit(Digits.load(), 0.2, seed)}</li>
 * <li>{@code cifar10}, {@code cifar100}: {@link Cifar#load} from dataRoot</li>
 * <li>{@code tiny-imagenet}: {@link TinyImageNet#load} from dataRoot (train or val)</li>
 * <li>{@code imagenet}: {@link ImageNet#open} of {@code dataRoot/imagenet} (train/, and val/ flat with its ground
 *     truth or in class folders), streamed from disk by {@link #open}; {@link #load} decodes every image (evaluation
 *     crop, 224x224) into memory, for small folders</li>
 * <li>{@code mnist}, {@code fashion_mnist}, {@code kmnist}: {@link Mnist#load} from {@code dataRoot/mnist},
 *     {@code dataRoot/fashion-mnist} (or Debian's {@value Mnist#DEBIAN_FASHION_MNIST}), {@code dataRoot/kmnist};
 *     1x28x28, 10 classes, 60,000 train and 10,000 test images</li>
 * <li>{@code synthetic}: a fixed {@link Synthetic} set of {@value #SYNTHETIC_SIZE} examples, 3x32x32,
 *     10 classes (data seed 0); train/test = {@code stratifiedSplit(..., 0.2, seed)}</li>
 * </ul>
 * The seed only matters for the sets split here (digits, synthetic).
 * <p>
 * Segmentation sets ({@link #isSegmentation} is true) are loaded with {@link #loadSegmentation} as
 * {@link SegDataset}s (see docs/datasets-segmentation.md):
 * <ul>
 * <li>{@code seg_demo}: embedded, generated {@link SegDemo} (data seed 0): train = examples [0, 256), test =
 *     [256, 320), 3x32x32, 4 classes</li>
 * <li>{@code voc2012}: {@link VocSegmentation} from dataRoot, train = ImageSets/Segmentation/train.txt,
 *     test = val.txt; 21 classes; ImageNet's channel statistics</li>
 * <li>{@code voc2012_aug}: train = train_aug.txt with labels from SegmentationClassAug, test = val.txt</li>
 * </ul>
 * {@link #names()} lists both kinds.
 */
public final class DatasetRegistry {

    public static final int SYNTHETIC_SIZE = 1200;
    public static final double TEST_FRACTION = 0.2;

    @FunctionalInterface
    private interface Loader {
        Dataset load(Path dataRoot, boolean train, long seed);
    }

    private record Entry(Loader loader, ChannelStats stats, boolean fromDisk) {
    }

    @FunctionalInterface
    private interface SegLoader {
        SegDataset load(Path dataRoot, boolean train, long seed);
    }

    private record SegEntry(SegLoader loader, ChannelStats stats, boolean fromDisk) {
    }

    private static final Map<String, Entry> ENTRIES = entries();
    private static final Map<String, SegEntry> SEG_ENTRIES = segEntries();

    private DatasetRegistry() {
    }

    private static Map<String, Entry> entries() {
        Map<String, Entry> m = new LinkedHashMap<>();
        m.put("digits", new Entry((root, train, seed) -> split(Digits.load(), train, seed), null, false));
        m.put("cifar10", new Entry((root, train, seed) -> Cifar.load(root, 10, train), ChannelStats.CIFAR10, true));
        m.put("cifar100", new Entry((root, train, seed) -> Cifar.load(root, 100, train), ChannelStats.CIFAR100, true));
        m.put("tiny-imagenet", new Entry((root, train, seed) -> TinyImageNet.load(root, train), ChannelStats.TINY_IMAGENET, true));
        m.put("imagenet", new Entry((root, train, seed) -> ImageNet.open(root, train).load(), ChannelStats.IMAGENET, true));
        m.put("mnist", mnist(Mnist.Variant.MNIST, ChannelStats.MNIST));
        m.put("fashion_mnist", mnist(Mnist.Variant.FASHION_MNIST, ChannelStats.FASHION_MNIST));
        m.put("kmnist", mnist(Mnist.Variant.KMNIST, ChannelStats.KMNIST));
        m.put("synthetic", new Entry((root, train, seed) ->
                split(Synthetic.create(SYNTHETIC_SIZE, 3, 32, 32, 10, 0), train, seed), null, false));
        return Collections.unmodifiableMap(m);
    }

    private static Entry mnist(Mnist.Variant v, ChannelStats stats) {
        return new Entry((root, train, seed) -> Mnist.load(root, v, train), stats, true);
    }

    private static Map<String, SegEntry> segEntries() {
        Map<String, SegEntry> m = new LinkedHashMap<>();
        m.put("seg_demo", new SegEntry((root, train, seed) -> train
                ? SegDemo.create(0, 0, SegDemo.TRAIN_SIZE, "seg_demo-train")
                : SegDemo.create(0, SegDemo.TRAIN_SIZE, SegDemo.TEST_SIZE, "seg_demo-test"), ChannelStats.SEG_DEMO, false));
        m.put("voc2012", new SegEntry((root, train, seed) -> train
                ? VocSegmentation.open(root, VocSegmentation.Split.TRAIN, "voc2012-train")
                : VocSegmentation.open(root, VocSegmentation.Split.VAL, "voc2012-val"), ChannelStats.IMAGENET, true));
        m.put("voc2012_aug", new SegEntry((root, train, seed) -> train
                ? VocSegmentation.open(root, VocSegmentation.Split.TRAIN_AUG, "voc2012_aug-train")
                : VocSegmentation.open(root, VocSegmentation.Split.VAL, "voc2012_aug-val"), ChannelStats.IMAGENET, true));
        return Collections.unmodifiableMap(m);
    }

    private static Dataset split(Dataset all, boolean train, long seed) {
        Splits.Split s = Splits.stratifiedSplit(all, TEST_FRACTION, seed);
        return train ? s.train().withName(all.name() + "-train") : s.test().withName(all.name() + "-test");
    }

    /** The valid names, in a fixed order: the classification sets, then the segmentation sets. */
    public static List<String> names() {
        List<String> all = new ArrayList<>(ENTRIES.keySet());
        all.addAll(SEG_ENTRIES.keySet());
        return List.copyOf(all);
    }

    /**
     * Whether {@code name} is a segmentation set (load it with {@link #loadSegmentation}).
     *
     * @throws IllegalArgumentException for an unknown name (the message lists the valid ones)
     */
    public static boolean isSegmentation(String name) {
        Objects.requireNonNull(name, "dataset name");
        if (SEG_ENTRIES.containsKey(name)) return true;
        entry(name);
        return false;
    }

    /**
     * Opens the train or test split of segmentation set {@code name}. {@code dataRoot} holds the downloaded
     * sets (see {@link VocSegmentation#locate}); it may be null for seg_demo. The seed is not used (every
     * segmentation set has a fixed split); it is there to match {@link #load}.
     *
     * @throws IllegalArgumentException for an unknown name, a classification set (use {@link #load}), or a
     *                                  null dataRoot for a set read from disk
     * @throws DatasetException         if the files are missing or malformed
     */
    public static SegDataset loadSegmentation(String name, Path dataRoot, boolean train, long seed) {
        Objects.requireNonNull(name, "dataset name");
        SegEntry e = SEG_ENTRIES.get(name);
        if (e == null) {
            entry(name);
            throw new IllegalArgumentException("Dataset '" + name + "' is a classification set; load it with "
                    + "DatasetRegistry.load. Segmentation sets: " + String.join(", ", SEG_ENTRIES.keySet()) + ".");
        }
        if (dataRoot == null && e.fromDisk()) {
            throw new IllegalArgumentException("Dataset '" + name + "' is read from disk; pass the data root folder "
                    + "(the one that holds VOCdevkit/VOC2012/, VOC2012/ or JPEGImages/).");
        }
        return e.loader().load(dataRoot, train, seed);
    }

    /**
     * Loads the train or test split of dataset {@code name}. {@code dataRoot} holds the downloaded sets
     * (it may be null for digits and synthetic).
     *
     * @throws IllegalArgumentException for an unknown name (the message lists the valid ones) or a
     *                                  segmentation set (use {@link #loadSegmentation})
     * @throws DatasetException         if the files are missing or malformed
     */
    public static Dataset load(String name, Path dataRoot, boolean train, long seed) {
        if (SEG_ENTRIES.containsKey(Objects.requireNonNull(name, "dataset name"))) {
            throw new IllegalArgumentException("Dataset '" + name + "' is a segmentation set (per-pixel labels); "
                    + "load it with DatasetRegistry.loadSegmentation, which gives a SegDataset.");
        }
        Entry e = entry(name);
        if (dataRoot == null && e.fromDisk()) {
            throw new IllegalArgumentException("Dataset '" + name + "' is read from disk; pass the data root folder "
                    + "(the one that holds cifar-10-batches-bin/, cifar-100-binary/, tiny-imagenet-200/, imagenet/, mnist/, ...).");
        }
        return e.loader().load(dataRoot, train, seed);
    }

    /** Whether {@link #open} streams {@code name} from its files (decoded per batch) rather than loading it into memory. */
    public static boolean isStreamed(String name) {
        entry(name);
        return name.equals("imagenet");
    }

    /**
     * The train or test split of classification set {@code name} as training reads it: the {@link ImageFiles}
     * index for a streamed set ({@link #isStreamed}), else {@link #load}'s in-memory Dataset; pixels in [0, 1].
     *
     * @throws IllegalArgumentException as {@link #load}
     * @throws DatasetException         if the files are missing or malformed
     */
    public static ImageSet open(String name, Path dataRoot, boolean train, long seed) {
        if (SEG_ENTRIES.containsKey(Objects.requireNonNull(name, "dataset name")) || !isStreamed(name)) {
            return load(name, dataRoot, train, seed);
        }
        if (dataRoot == null) {
            throw new IllegalArgumentException("Dataset '" + name + "' is read from disk; pass the data root folder "
                    + "(the one that holds imagenet/).");
        }
        return ImageNet.open(dataRoot, train);
    }

    /**
     * The per-channel statistics to normalize {@code name} with: ImageNet's for the VOC sets, seg_demo's
     * own ({@link ChannelStats#SEG_DEMO}), empty for digits and synthetic.
     */
    public static Optional<ChannelStats> stats(String name) {
        SegEntry s = SEG_ENTRIES.get(Objects.requireNonNull(name, "dataset name"));
        return Optional.ofNullable(s != null ? s.stats() : entry(name).stats());
    }

    /**
     * Whether a set read from disk is there, for the sets that can say so without loading (the MNIST
     * family): present, with the folder it was found in, or not, with how to get it. Empty for the
     * other sets.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public static Optional<Availability> availability(String name, Path dataRoot) {
        if (!SEG_ENTRIES.containsKey(Objects.requireNonNull(name, "dataset name"))) entry(name);
        return Mnist.Variant.of(name).map(v -> Mnist.locate(dataRoot, v)
                .map(dir -> new Availability(true, dir.toAbsolutePath().toString()))
                .orElseGet(() -> new Availability(false, Mnist.howToGet(dataRoot, v))));
    }

    /** @param detail the folder the set was found in when present, else how to get it */
    public record Availability(boolean present, String detail) {
    }

    private static Entry entry(String name) {
        Entry e = ENTRIES.get(Objects.requireNonNull(name, "dataset name"));
        if (e == null) {
            throw new IllegalArgumentException("Unknown dataset '" + name + "'. Valid names: "
                    + String.join(", ", names()) + ".");
        }
        return e;
    }
}
