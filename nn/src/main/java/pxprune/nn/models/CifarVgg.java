package pxprune.nn.models;

import java.util.List;
import pxprune.core.Tensor;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Init;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.MaxPool2d;
import pxprune.nn.Module;
import pxprune.nn.Sequential;

/**
 * VGG for CIFAR in open_lth's layout ({@code models/cifar_vgg.py}): {@code layers} is a
 * Sequential whose entries are either a conv module {@code layers.{i}.conv} (3x3, padding 1,
 * with bias) [+ {@code layers.{i}.bn}] followed by ReLU, or a 2x2 max pool (which takes an index
 * and has no parameters); then pooling to 1x1 and {@code fc} (512 -> classes). open_lth pools
 * with AvgPool2d(2), which equals global average pooling for 32x32 inputs; this class uses global
 * average pooling so that any input of at least 16x16 works. open_lth's plans have 4 max pools
 * (no pool after the last stage), unlike torchvision's.
 */
public final class CifarVgg extends Module {
    /** plans by depth; 0 stands for 'M' (max pool) */
    static final List<int[]> PLANS = List.of(
            new int[] {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512},
            new int[] {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512},
            new int[] {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512},
            new int[] {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512});

    public final int depth, inChannels, numClasses;
    public final boolean batchNorm;
    private final Sequential layers;
    private final Linear fc;

    /** open_lth's {@code ConvModule}: relu(bn(conv(x))) (without bn: relu(conv(x))) */
    public static final class ConvModule extends Module {
        private final Conv2d conv;
        private final BatchNorm bn; // null without batch norm

        ConvModule(int in, int out, boolean batchNorm, Init init) {
            conv = registerModule("conv", new Conv2d(in, out, 3, 1, 1, true, init));
            bn = batchNorm ? registerModule("bn", new BatchNorm(out)) : null;
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            Tensor y = conv.forward(x, it);
            if (bn != null) y = bn.forward(y, it);
            return it.reluOfTemporary(y);
        }
    }

    /** the smallest input side that survives the plan's max pools */
    public static int minInputSize(int depth) { return 1 << pools(plan(depth)); }

    private static int[] plan(int depth) {
        return switch (depth) {
            case 11 -> PLANS.get(0);
            case 13 -> PLANS.get(1);
            case 16 -> PLANS.get(2);
            case 19 -> PLANS.get(3);
            default -> throw new IllegalArgumentException("VGG depth must be 11, 13, 16 or 19, got " + depth);
        };
    }

    private static int pools(int[] plan) {
        int p = 0;
        for (int s : plan) if (s == 0) p++;
        return p;
    }

    public CifarVgg(int depth, boolean batchNorm, int inChannels, int numClasses, Init init) {
        int[] plan = plan(depth);
        if (inChannels < 1 || numClasses < 1)
            throw new IllegalArgumentException("VGG needs inChannels and numClasses >= 1, got " + inChannels + ", " + numClasses);
        this.depth = depth; this.batchNorm = batchNorm; this.inChannels = inChannels; this.numClasses = numClasses;
        layers = registerModule("layers", new Sequential());
        int filters = inChannels;
        for (int spec : plan) {
            if (spec == 0) layers.add(new MaxPool2d(2, 2, 0));
            else {
                layers.add(new ConvModule(filters, spec, batchNorm, init));
                filters = spec;
            }
        }
        fc = registerModule("fc", new Linear(filters, numClasses, true, init));
    }

    @Override public Tensor forward(Tensor x, Interpreter it) {
        int min = minInputSize(depth);
        if (x.dim() != 4 || x.size(2) < min || x.size(3) < min)
            throw new IllegalArgumentException("VGG-" + depth + " takes [N, C, H, W] inputs of at least " + min + "x" + min
                    + " (it has " + pools(plan(depth)) + " 2x2 max pools), got " + java.util.Arrays.toString(x.shape()));
        return fc.forward(it.globalAvgPool(layers.forward(x, it)), it);
    }
}
