package pxprune.nn.models;

import java.util.Arrays;
import pxprune.core.Tensor;
import pxprune.nn.AdaptiveAvgPool2d;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Dropout;
import pxprune.nn.Init;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.MaxPool2d;
import pxprune.nn.Module;
import pxprune.nn.ReLU;
import pxprune.nn.Sequential;

/**
 * torchvision's VGG ({@code torchvision/models/vgg.py}, {@code vgg11/vgg11_bn/vgg16/vgg16_bn})
 * with its parameter names. {@code features} is a Sequential of, per configuration entry, either
 * Conv2d 3x3 padding 1 with bias [+ BatchNorm2d] + ReLU (each its own index) or MaxPool2d(2, 2):
 * configuration A (VGG-11) puts the convolutions at {@code features.0, 3, 6, 8, 11, 13, 16, 18}
 * without batch norm and {@code features.0, 4, 8, 11, 15, 18, 22, 25} (batch norms one index
 * later) with it. {@code avgpool} is AdaptiveAvgPool2d((7, 7)) (through the interpreter's
 * resampling; for inputs under 224 pixels it repeats values as PyTorch does); {@code classifier}
 * is Linear(512*7*7, 4096), ReLU, Dropout(0.5), Linear(4096, 4096), ReLU, Dropout(0.5),
 * Linear(4096, classes), i.e. {@code classifier.0/3/6}. Five max pools: inputs of at least 32x32.
 * Unlike {@link CifarVgg} (open_lth's CIFAR layout) this is the ImageNet network.
 */
public final class TorchvisionVgg extends Module {
    /** torchvision's cfgs "A" (11) and "D" (16); 0 stands for 'M' (max pool) */
    private static int[] config(int depth) {
        return switch (depth) {
            case 11 -> new int[] {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
            case 13 -> new int[] {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
            case 16 -> new int[] {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
            case 19 -> new int[] {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0};
            default -> throw new IllegalArgumentException("torchvision VGG depth must be 11, 13, 16 or 19, got " + depth);
        };
    }

    /** the smallest input side (five 2x2 max pools) */
    public static final int MIN_INPUT = 32;

    public final int depth, inChannels, numClasses;
    public final boolean batchNorm;
    private final Sequential features, classifier;
    private final AdaptiveAvgPool2d avgpool;

    /** @param dropout the classifier's dropout probability (torchvision: 0.5) */
    public TorchvisionVgg(int depth, boolean batchNorm, int inChannels, int numClasses, double dropout, Init init) {
        int[] cfg = config(depth);
        if (inChannels < 1 || numClasses < 1)
            throw new IllegalArgumentException("VGG needs inChannels and numClasses >= 1, got " + inChannels + ", " + numClasses);
        this.depth = depth; this.batchNorm = batchNorm; this.inChannels = inChannels; this.numClasses = numClasses;
        features = registerModule("features", new Sequential());
        int c = inChannels;
        for (int v : cfg) {
            if (v == 0) { features.add(new MaxPool2d(2, 2, 0)); continue; }
            features.add(new Conv2d(c, v, 3, 1, 1, true, init));
            if (batchNorm) features.add(new BatchNorm(v));
            features.add(new ReLU());
            c = v;
        }
        avgpool = registerModule("avgpool", new AdaptiveAvgPool2d(7, 7));
        classifier = registerModule("classifier", new Sequential(
                new Linear(c * 7 * 7, 4096, true, init), new ReLU(), new Dropout(dropout),
                new Linear(4096, 4096, true, init), new ReLU(), new Dropout(dropout),
                new Linear(4096, numClasses, true, init)));
    }

    @Override public Tensor forward(Tensor x, Interpreter it) {
        if (x.dim() != 4 || x.size(1) != inChannels || x.size(2) < MIN_INPUT || x.size(3) < MIN_INPUT)
            throw new IllegalArgumentException("torchvision VGG-" + depth + " takes [N, " + inChannels + ", H, W] inputs of at least "
                    + MIN_INPUT + "x" + MIN_INPUT + " (five 2x2 max pools), got " + Arrays.toString(x.shape()));
        Tensor f = avgpool.forward(features.forward(x, it), it);
        return classifier.forward(it.flatten(f, 1), it);
    }
}
