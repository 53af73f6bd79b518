package pxprune.nn.models;

import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Init;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.Module;
import pxprune.nn.Sequential;

/**
 * The CIFAR ResNet of He et al. (2016) in open_lth's layout ({@code models/cifar_resnet.py}):
 * a 3x3 stem {@code conv}/{@code bn}, then {@code blocks.0 .. blocks.3n-1} in three stages of
 * widths w, 2w, 4w (stride 2 at the first block of stages 2 and 3, with a 1x1 convolution and
 * batch norm {@code shortcut.0/1} there), global average pooling and {@code fc}. Depth = 6n + 2.
 * Any input of at least 1x1 pixels works (the stem keeps the size; each stage halves it, rounding up).
 */
public final class CifarResNet extends Module {
    public final int depth, width, inChannels, numClasses;
    private final Conv2d conv;
    private final BatchNorm bn;
    private final Sequential blocks;
    private final Linear fc;

    /** open_lth's {@code Model.Block}: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)) */
    public static final class Block extends Module {
        private final Conv2d conv1, conv2;
        private final BatchNorm bn1, bn2;
        private final Sequential shortcut; // null: identity

        Block(int in, int out, boolean downsample, Init init) {
            int stride = downsample ? 2 : 1;
            conv1 = registerModule("conv1", new Conv2d(in, out, 3, stride, 1, false, init));
            bn1 = registerModule("bn1", new BatchNorm(out));
            conv2 = registerModule("conv2", new Conv2d(out, out, 3, 1, 1, false, init));
            bn2 = registerModule("bn2", new BatchNorm(out));
            shortcut = downsample || in != out
                    ? registerModule("shortcut", new Sequential(new Conv2d(in, out, 1, 2, 0, false, init), new BatchNorm(out)))
                    : null;
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            Tensor out = it.relu(bn1.forward(conv1.forward(x, it), it));
            out = bn2.forward(conv2.forward(out, it), it);
            Tensor sc = shortcut == null ? x : shortcut.forward(x, it);
            return it.relu(Ops.add(out, sc));
        }
    }

    /**
     * @param depth 6n + 2 (20, 32, 44, 56, 110, ...)
     * @param width filters of the first stage (16 for the standard networks)
     */
    public CifarResNet(int depth, int width, int inChannels, int numClasses, Init init) {
        if (depth < 8 || (depth - 2) % 6 != 0)
            throw new IllegalArgumentException("CIFAR ResNet depth must be 6n+2 with n >= 1 (20, 32, 44, 56, 110), got " + depth);
        if (width < 1 || inChannels < 1 || numClasses < 1)
            throw new IllegalArgumentException("CIFAR ResNet needs width, inChannels and numClasses >= 1, got "
                    + width + ", " + inChannels + ", " + numClasses);
        this.depth = depth; this.width = width; this.inChannels = inChannels; this.numClasses = numClasses;
        int n = (depth - 2) / 6;
        conv = registerModule("conv", new Conv2d(inChannels, width, 3, 1, 1, false, init));
        bn = registerModule("bn", new BatchNorm(width));
        blocks = registerModule("blocks", new Sequential());
        int current = width;
        for (int stage = 0; stage < 3; stage++) {
            int filters = width << stage;
            for (int b = 0; b < n; b++) {
                blocks.add(new Block(current, filters, stage > 0 && b == 0, init));
                current = filters;
            }
        }
        fc = registerModule("fc", new Linear(current, numClasses, true, init));
    }

    @Override public Tensor forward(Tensor x, Interpreter it) {
        Tensor out = it.relu(bn.forward(conv.forward(x, it), it));
        out = blocks.forward(out, it);
        return fc.forward(Ops.globalAvgPool(out), it);
    }
}
