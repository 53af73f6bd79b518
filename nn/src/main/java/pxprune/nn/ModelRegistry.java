package pxprune.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import pxprune.nn.models.CifarResNet;
import pxprune.nn.models.CifarVgg;
import pxprune.nn.models.ResNet;

/**
 * Models by name: the only place that names the concrete model classes. Every model is built with
 * Kaiming-normal weights (fan-in) and PyTorch's default uniform biases from a seeded {@link Init}
 * (the same seed gives the same weights), batch-norm weight 1 and bias 0, and is in training mode.
 *
 * <ul>
 * <li>{@code resnet20 .. resnet110}: CIFAR ResNets, open_lth layout ({@link CifarResNet}), width 16.
 * <li>{@code vgg11 .. vgg19[_bn]}: CIFAR VGGs, open_lth layout ({@link CifarVgg}); inputs of at least 16x16.
 * <li>{@code resnet18}: torchvision ResNet-18 with the small-image stem (3x3 stride 1, no max pool),
 *     as used for 64x64 Tiny-ImageNet.
 * <li>{@code resnet50}: torchvision ResNet-50 exactly (ImageNet stem).
 * </ul>
 */
public final class ModelRegistry {
    private ModelRegistry() {}

    private interface Factory { Module create(int inChannels, int numClasses, Init init); }

    private record Spec(Factory factory, int minInputSize) {}

    private static final Map<String, Spec> MODELS = new LinkedHashMap<>();

    static {
        for (int depth : new int[] {20, 32, 44, 56, 110})
            MODELS.put("resnet" + depth, new Spec((c, k, init) -> new CifarResNet(depth, 16, c, k, init), 1));
        for (int depth : new int[] {11, 13, 16, 19}) {
            int min = CifarVgg.minInputSize(depth);
            MODELS.put("vgg" + depth, new Spec((c, k, init) -> new CifarVgg(depth, false, c, k, init), min));
            MODELS.put("vgg" + depth + "_bn", new Spec((c, k, init) -> new CifarVgg(depth, true, c, k, init), min));
        }
        MODELS.put("resnet18", new Spec((c, k, init) -> new ResNet(new int[] {2, 2, 2, 2}, false, true, c, k, init), 1));
        MODELS.put("resnet50", new Spec((c, k, init) -> new ResNet(new int[] {3, 4, 6, 3}, true, false, c, k, init), 1));
    }

    /** the valid model names, in a fixed order */
    public static List<String> names() { return List.copyOf(MODELS.keySet()); }

    public static boolean contains(String name) { return MODELS.containsKey(name); }

    /**
     * A new model with freshly initialised parameters (deterministic for the seed).
     *
     * @param inputSize the side of the (square) inputs it will see; checked against the model's minimum
     * @throws IllegalArgumentException for an unknown name (the message lists the valid ones) or bad sizes
     */
    public static Module create(String name, int inChannels, int numClasses, int inputSize, long seed) {
        Spec spec = MODELS.get(name);
        if (spec == null)
            throw new IllegalArgumentException("unknown model '" + name + "'; valid names: " + String.join(", ", MODELS.keySet()));
        if (inChannels < 1 || numClasses < 1)
            throw new IllegalArgumentException(name + ": inChannels and numClasses must be >= 1, got " + inChannels + " and "
                    + numClasses);
        if (inputSize < spec.minInputSize())
            throw new IllegalArgumentException(name + " needs inputs of at least " + spec.minInputSize() + "x"
                    + spec.minInputSize() + " pixels, got " + inputSize + "; upsample the data or pick another model");
        return spec.factory().create(inChannels, numClasses, new Init(seed));
    }
}
