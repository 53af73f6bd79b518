package pxprune.datasets;

import java.nio.file.Path;
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
 * <li>{@code imagenet}: {@link ImageFolder#load} of {@code dataRoot/imagenet/train} or {@code .../val}, 224x224</li>
 * <li>{@code synthetic}: a fixed {@link Synthetic} set of {@value #SYNTHETIC_SIZE} examples, 3x32x32,
 *     10 classes (data seed 0); train/test = {@code stratifiedSplit(..., 0.2, seed)}</li>
 * </ul>
 * The seed only matters for the sets split here (digits, synthetic).
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

    private static final Map<String, Entry> ENTRIES = entries();

    private DatasetRegistry() {
    }

    private static Map<String, Entry> entries() {
        Map<String, Entry> m = new LinkedHashMap<>();
        m.put("digits", new Entry((root, train, seed) -> split(Digits.load(), train, seed), null, false));
        m.put("cifar10", new Entry((root, train, seed) -> Cifar.load(root, 10, train), ChannelStats.CIFAR10, true));
        m.put("cifar100", new Entry((root, train, seed) -> Cifar.load(root, 100, train), ChannelStats.CIFAR100, true));
        m.put("tiny-imagenet", new Entry((root, train, seed) -> TinyImageNet.load(root, train), ChannelStats.TINY_IMAGENET, true));
        m.put("imagenet", new Entry((root, train, seed) ->
                ImageFolder.load(root.resolve("imagenet").resolve(train ? "train" : "val"), 224)
                        .withName(train ? "imagenet-train" : "imagenet-val"), ChannelStats.IMAGENET, true));
        m.put("synthetic", new Entry((root, train, seed) ->
                split(Synthetic.create(SYNTHETIC_SIZE, 3, 32, 32, 10, 0), train, seed), null, false));
        return Collections.unmodifiableMap(m);
    }

    private static Dataset split(Dataset all, boolean train, long seed) {
        Splits.Split s = Splits.stratifiedSplit(all, TEST_FRACTION, seed);
        return train ? s.train().withName(all.name() + "-train") : s.test().withName(all.name() + "-test");
    }

    /** The valid names, in a fixed order. */
    public static List<String> names() {
        return List.copyOf(ENTRIES.keySet());
    }

    /**
     * Loads the train or test split of dataset {@code name}. {@code dataRoot} holds the downloaded sets
     * (it may be null for digits and synthetic).
     *
     * @throws IllegalArgumentException for an unknown name (the message lists the valid ones)
     * @throws DatasetException         if the files are missing or malformed
     */
    public static Dataset load(String name, Path dataRoot, boolean train, long seed) {
        Entry e = entry(name);
        if (dataRoot == null && e.fromDisk()) {
            throw new IllegalArgumentException("Dataset '" + name + "' is read from disk; pass the data root folder "
                    + "(the one that holds cifar-10-batches-bin/, cifar-100-binary/, tiny-imagenet-200/, imagenet/).");
        }
        return e.loader().load(dataRoot, train, seed);
    }

    /** The per-channel statistics to normalize {@code name} with, or empty for digits and synthetic. */
    public static Optional<ChannelStats> stats(String name) {
        return Optional.ofNullable(entry(name).stats());
    }

    private static Entry entry(String name) {
        Entry e = ENTRIES.get(Objects.requireNonNull(name, "dataset name"));
        if (e == null) {
            throw new IllegalArgumentException("Unknown dataset '" + name + "'. Valid names: "
                    + String.join(", ", ENTRIES.keySet()) + ".");
        }
        return e;
    }
}
