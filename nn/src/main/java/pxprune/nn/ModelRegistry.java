package pxprune.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import pxprune.nn.models.CifarResNet;
import pxprune.nn.models.CifarVgg;
import pxprune.nn.models.DeepLabV3;
import pxprune.nn.models.DeepLabV3Plus;
import pxprune.nn.models.ResNet;
import pxprune.nn.models.TorchvisionVgg;

/**
 * Models by name: the only place that names the concrete model classes. Every model is built with
 * Kaiming-normal weights (fan-in) and PyTorch's default uniform biases from a seeded {@link Init}
 * (the same seed gives the same weights), batch-norm weight 1 and bias 0, and is in training mode.
 * docs/models.md lists every model with its input, output and parameter layout.
 *
 * <ul>
 * <li>{@code resnet20 .. resnet110}: CIFAR ResNets, open_lth layout ({@link CifarResNet}), width 16.
 * <li>{@code vgg11 .. vgg19[_bn]}: CIFAR VGGs, open_lth layout ({@link CifarVgg}); inputs of at least 16x16.
 * <li>{@code resnet18}: torchvision ResNet-18 with the small-image stem (3x3 stride 1, no max pool),
 *     as used for 64x64 Tiny-ImageNet.
 * <li>{@code resnet50}: torchvision ResNet-50 exactly (ImageNet stem); the same model as {@code tv_resnet50}.
 * <li>{@code tv_resnet18/34/50/101}: torchvision's {@code resnet18/34/50/101} exactly ({@link ResNet}).
 * <li>{@code tv_vgg11[_bn], tv_vgg16[_bn]}: torchvision's {@code vgg11[_bn]/vgg16[_bn]} ({@link TorchvisionVgg});
 *     inputs of at least 32x32.
 * <li>{@code deeplabv3_resnet50/101[_aux]}: torchvision's {@code deeplabv3_resnet50/101(aux_loss=...)}
 *     ({@link DeepLabV3}); segmentation.
 * <li>{@code deeplabv3plus_resnet50/101}: DeepLabV3+ in VainF's DeepLabV3Plus-Pytorch layout,
 *     output stride 16 ({@link DeepLabV3Plus}); segmentation.
 * <li>{@code deeplabv3_resnet20}: a small DeepLabV3 on a CIFAR ResNet-20 for 32x32 images; segmentation.
 * </ul>
 * Segmentation models ({@link #isSegmentation}) implement {@link SegmentationModel} and map
 * [N, C, H, W] to [N, classes, H, W]; the others to [N, classes].
 */
public final class ModelRegistry {
    private ModelRegistry() {}

    private interface Factory { Module create(int inChannels, int numClasses, Init init); }

    private record Spec(Factory factory, int minInputSize, boolean segmentation) {}

    private static final Map<String, Spec> MODELS = new LinkedHashMap<>();

    private static final int[] R18 = {2, 2, 2, 2}, R34 = {3, 4, 6, 3}, R50 = {3, 4, 6, 3}, R101 = {3, 4, 23, 3};

    static {
        for (int depth : new int[] {20, 32, 44, 56, 110})
            MODELS.put("resnet" + depth, new Spec((c, k, init) -> new CifarResNet(depth, 16, c, k, init), 1, false));
        for (int depth : new int[] {11, 13, 16, 19}) {
            int min = CifarVgg.minInputSize(depth);
            MODELS.put("vgg" + depth, new Spec((c, k, init) -> new CifarVgg(depth, false, c, k, init), min, false));
            MODELS.put("vgg" + depth + "_bn", new Spec((c, k, init) -> new CifarVgg(depth, true, c, k, init), min, false));
        }
        MODELS.put("resnet18", new Spec((c, k, init) -> new ResNet(R18, false, true, c, k, init), 1, false));
        MODELS.put("resnet50", new Spec((c, k, init) -> new ResNet(R50, true, false, c, k, init), 1, false));
        MODELS.put("tv_resnet18", new Spec((c, k, init) -> new ResNet(R18, false, false, c, k, init), 1, false));
        MODELS.put("tv_resnet34", new Spec((c, k, init) -> new ResNet(R34, false, false, c, k, init), 1, false));
        MODELS.put("tv_resnet50", new Spec((c, k, init) -> new ResNet(R50, true, false, c, k, init), 1, false));
        MODELS.put("tv_resnet101", new Spec((c, k, init) -> new ResNet(R101, true, false, c, k, init), 1, false));
        for (int depth : new int[] {11, 16}) {
            MODELS.put("tv_vgg" + depth, new Spec((c, k, init) -> new TorchvisionVgg(depth, false, c, k, 0.5, init),
                    TorchvisionVgg.MIN_INPUT, false));
            MODELS.put("tv_vgg" + depth + "_bn", new Spec((c, k, init) -> new TorchvisionVgg(depth, true, c, k, 0.5, init),
                    TorchvisionVgg.MIN_INPUT, false));
        }
        MODELS.put("deeplabv3_resnet50", new Spec((c, k, init) -> DeepLabV3.torchvision(R50, false, c, k, 0.5, init), 1, true));
        MODELS.put("deeplabv3_resnet50_aux", new Spec((c, k, init) -> DeepLabV3.torchvision(R50, true, c, k, 0.5, init), 1, true));
        MODELS.put("deeplabv3_resnet101", new Spec((c, k, init) -> DeepLabV3.torchvision(R101, false, c, k, 0.5, init), 1, true));
        MODELS.put("deeplabv3_resnet101_aux", new Spec((c, k, init) -> DeepLabV3.torchvision(R101, true, c, k, 0.5, init), 1, true));
        MODELS.put("deeplabv3plus_resnet50", new Spec((c, k, init) -> new DeepLabV3Plus(R50, c, k, 0.1, init), 1, true));
        MODELS.put("deeplabv3plus_resnet101", new Spec((c, k, init) -> new DeepLabV3Plus(R101, c, k, 0.1, init), 1, true));
        MODELS.put("deeplabv3_resnet20", new Spec((c, k, init) -> DeepLabV3.small(c, k, init), 1, true));
    }

    /** the valid model names, in a fixed order */
    public static List<String> names() { return List.copyOf(MODELS.keySet()); }

    public static boolean contains(String name) { return MODELS.containsKey(name); }

    private static Spec spec(String name) {
        Spec spec = MODELS.get(name);
        if (spec == null)
            throw new IllegalArgumentException("unknown model '" + name + "'; valid names: " + String.join(", ", MODELS.keySet()));
        return spec;
    }

    /**
     * Whether the model is a segmentation model: it implements {@link SegmentationModel} and its
     * forward maps [N, C, H, W] to per-pixel logits [N, classes, H, W] (trained with a per-pixel
     * cross-entropy); otherwise it outputs [N, classes].
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public static boolean isSegmentation(String name) { return spec(name).segmentation(); }

    /** the segmentation models' names, in {@link #names()} order */
    public static List<String> segmentationNames() {
        return MODELS.entrySet().stream().filter(e -> e.getValue().segmentation()).map(Map.Entry::getKey).toList();
    }

    /** the smallest input side the model takes ({@link #create} checks it) */
    public static int minInputSize(String name) { return spec(name).minInputSize(); }

    /**
     * A new model with freshly initialised parameters (deterministic for the seed).
     *
     * @param inputSize the side of the (square) inputs it will see; checked against the model's minimum
     * @throws IllegalArgumentException for an unknown name (the message lists the valid ones) or bad sizes
     */
    public static Module create(String name, int inChannels, int numClasses, int inputSize, long seed) {
        return create(name, inChannels, numClasses, inputSize, new Init(seed));
    }

    /**
     * A new model with parameters from init; {@link Init#zeros()} for a model that a checkpoint
     * is loaded into next ({@link Module#loadStateDict}), which skips drawing the initial weights.
     *
     * @throws IllegalArgumentException for an unknown name (the message lists the valid ones) or bad sizes
     */
    public static Module create(String name, int inChannels, int numClasses, int inputSize, Init init) {
        Spec spec = spec(name);
        if (inChannels < 1 || numClasses < 1)
            throw new IllegalArgumentException(name + ": inChannels and numClasses must be >= 1, got " + inChannels + " and "
                    + numClasses);
        if (inputSize < spec.minInputSize())
            throw new IllegalArgumentException(name + " needs inputs of at least " + spec.minInputSize() + "x"
                    + spec.minInputSize() + " pixels, got " + inputSize + "; upsample the data or pick another model");
        return spec.factory().create(inChannels, numClasses, init);
    }

    // ------------------------------------------------------------------ layouts

    /**
     * A known state-dict layout, recognised from key names and shapes alone.
     *
     * @param model the registry name that builds this layout, or null if none does (e.g. torchvision's vgg19)
     * @param description in words, e.g. "torchvision's vgg16_bn layout (features.*, classifier.*)"
     * @param inChannels the first convolution's input channels
     * @param numClasses the output layer's rows (0 for a backbone without a classifier)
     */
    public record Layout(String model, String description, int inChannels, int numClasses) {}

    private static final Pattern STAGE_BLOCK = Pattern.compile("layer([1-4])\\.(\\d+)\\.");
    private static final Pattern NUMBERED = Pattern.compile("(\\d+)\\.");

    /**
     * Which known layout a state dict (key -> shape, e.g. a safetensors header) has: torchvision's
     * ResNets, VGGs and DeepLabV3 (with or without aux_classifier), VainF's DeepLabV3+, open_lth's
     * CIFAR ResNets and VGGs, the small-stem resnet18 and deeplabv3_resnet20; a ResNet without
     * {@code fc} is recognised too (a backbone). Empty if none fits.
     */
    public static Optional<Layout> describeLayout(Map<String, long[]> shapes) {
        if (has(shapes, "classifier.aspp.project.0.weight") && has(shapes, "backbone.conv1.weight")) {
            int depth = resnetDepth(shapes, "backbone.");
            String name = "deeplabv3plus_resnet" + depth;
            return Optional.of(layout(name, "VainF's DeepLabV3+ " + name + " layout (backbone.*, classifier.project/aspp/classifier.*)",
                    shapes, "backbone.conv1.weight", "classifier.classifier.3.weight"));
        }
        if (has(shapes, "classifier.0.convs.0.0.weight") && has(shapes, "backbone.conv1.weight")) {
            int depth = resnetDepth(shapes, "backbone.");
            boolean aux = shapes.keySet().stream().anyMatch(k -> k.startsWith("aux_classifier."));
            String name = "deeplabv3_resnet" + depth + (aux ? "_aux" : "");
            return Optional.of(layout(name, "torchvision's deeplabv3_resnet" + depth + " layout " + (aux
                    ? "with aux_classifier (backbone.*, classifier.*, aux_classifier.*)" : "without aux_classifier (backbone.*, classifier.*)"),
                    shapes, "backbone.conv1.weight", "classifier.4.weight"));
        }
        if (has(shapes, "classifier.0.convs.0.0.weight") && has(shapes, "backbone.conv.weight")) {
            int depth = 2 * count(shapes, "backbone.blocks.") + 2;
            String name = "deeplabv3_resnet" + depth;
            return Optional.of(layout(name, "the small DeepLabV3 " + name + " layout (backbone.conv/bn/blocks.*, classifier.0/1.*)",
                    shapes, "backbone.conv.weight", "classifier.1.weight"));
        }
        if (has(shapes, "features.0.weight") && has(shapes, "classifier.6.weight")) {
            int convs = 0;
            boolean bn = false;
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                if (e.getKey().matches("features\\.\\d+\\.weight") && e.getValue().length == 4) convs++;
                if (e.getKey().matches("features\\.\\d+\\.running_var")) bn = true;
            }
            String tv = "vgg" + vggDepth(convs) + (bn ? "_bn" : "");
            return Optional.of(layout("tv_" + tv, "torchvision's " + tv + " layout (features.*, classifier.*)", shapes,
                    "features.0.weight", "classifier.6.weight"));
        }
        if (has(shapes, "conv1.weight") && has(shapes, "layer1.0.conv1.weight")) {
            int depth = resnetDepth(shapes, "");
            long[] stem = shapes.get("conv1.weight");
            boolean small = stem.length == 4 && stem[2] == 3;
            String fc = has(shapes, "fc.weight") ? "fc" : "no fc: a backbone";
            return Optional.of(small
                    ? layout(depth == 18 ? "resnet18" : null, "the small-stem ResNet-" + depth + " layout (3x3 conv1, no max pool, layer1..4, "
                            + fc + ")", shapes, "conv1.weight", "fc.weight")
                    : layout("tv_resnet" + depth, "torchvision's resnet" + depth + " layout (conv1, bn1, layer1..4, " + fc + ")",
                            shapes, "conv1.weight", "fc.weight"));
        }
        if (has(shapes, "conv.weight") && has(shapes, "blocks.0.conv1.weight")) {
            int depth = 2 * count(shapes, "blocks.") + 2;
            return Optional.of(layout("resnet" + depth, "open_lth's CIFAR resnet" + depth + " layout (conv, bn, blocks.*, fc)",
                    shapes, "conv.weight", "fc.weight"));
        }
        if (has(shapes, "layers.0.conv.weight")) {
            int convs = 0;
            for (String k : shapes.keySet()) if (k.matches("layers\\.\\d+\\.conv\\.weight")) convs++;
            String name = "vgg" + vggDepth(convs) + (has(shapes, "layers.0.bn.weight") ? "_bn" : "");
            return Optional.of(layout(name, "open_lth's CIFAR " + name + " layout (layers.N.conv/bn, fc)", shapes,
                    "layers.0.conv.weight", "fc.weight"));
        }
        return Optional.empty();
    }

    private static Layout layout(String name, String description, Map<String, long[]> shapes, String first, String last) {
        long[] f = shapes.get(first), l = shapes.get(last);
        int in = f != null && f.length >= 2 ? (int) f[1] : 0, classes = l != null && l.length >= 1 ? (int) l[0] : 0;
        return new Layout(name == null || !MODELS.containsKey(name) ? null : name, description, in, classes);
    }

    private static boolean has(Map<String, long[]> shapes, String key) { return shapes.containsKey(key); }

    /** the number of distinct blocks (prefix + "N.") */
    private static int count(Map<String, long[]> shapes, String prefix) {
        TreeSet<Integer> ids = new TreeSet<>();
        for (String k : shapes.keySet()) {
            if (!k.startsWith(prefix)) continue;
            Matcher m = NUMBERED.matcher(k.substring(prefix.length()));
            if (m.lookingAt()) ids.add(Integer.parseInt(m.group(1)));
        }
        return ids.size();
    }

    /** depth of a torchvision ResNet from its block counts: 2 or 3 layers per block (BasicBlock / Bottleneck) plus stem and fc */
    private static int resnetDepth(Map<String, long[]> shapes, String prefix) {
        int blocks = 0;
        TreeSet<String> seen = new TreeSet<>();
        for (String k : shapes.keySet()) {
            if (!k.startsWith(prefix)) continue;
            Matcher m = STAGE_BLOCK.matcher(k.substring(prefix.length()));
            if (m.lookingAt() && seen.add(m.group(1) + "." + m.group(2))) blocks++;
        }
        boolean bottleneck = has(shapes, prefix + "layer1.0.conv3.weight");
        return (bottleneck ? 3 : 2) * blocks + 2;
    }

    private static int vggDepth(int convs) { return convs + 3; }
}
