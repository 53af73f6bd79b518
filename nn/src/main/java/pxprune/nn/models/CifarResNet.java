package pxprune.nn.models;

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
 *
 * <p>A {@linkplain #backbone backbone} has no {@code fc}; with {@code dilateLastStage} its third
 * stage keeps the resolution (stride 1, also in its shortcut) and dilates its 3x3 convolutions by
 * 2 instead, the first block of the stage keeping dilation 1 (torchvision's {@code _make_layer}
 * rule), so its output stride is 2 (the small segmentation model {@code deeplabv3_resnet20}).
 */
public final class CifarResNet extends Module implements Backbone {
    public final int depth, width, inChannels, numClasses; // numClasses 0: a backbone without fc
    public final boolean dilateLastStage;
    private final Conv2d conv;
    private final BatchNorm bn;
    private final Sequential blocks;
    private final int[] stageEnds = new int[3]; // index of the last block of each stage
    private final Linear fc; // null in a backbone

    /**
     * open_lth's {@code Model.Block}: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); both 3x3
     * convolutions have the block's dilation (padding = dilation), the shortcut (1x1 convolution and
     * batch norm) exists where the stride is not 1 or the width changes.
     */
    public static final class Block extends Module {
        private final Conv2d conv1, conv2;
        private final BatchNorm bn1, bn2;
        private final Sequential shortcut; // null: identity

        Block(int in, int out, int stride, int dilation, Init init) {
            conv1 = registerModule("conv1", new Conv2d(in, out, 3, stride, dilation, dilation, 1, false, init));
            bn1 = registerModule("bn1", new BatchNorm(out));
            conv2 = registerModule("conv2", new Conv2d(out, out, 3, 1, dilation, dilation, 1, false, init));
            bn2 = registerModule("bn2", new BatchNorm(out));
            shortcut = stride != 1 || in != out
                    ? registerModule("shortcut", new Sequential(new Conv2d(in, out, 1, stride, 0, false, init), new BatchNorm(out)))
                    : null;
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            Tensor out = it.reluOfTemporary(bn1.forward(conv1.forward(x, it), it));
            out = bn2.forward(conv2.forward(out, it), it);
            Tensor sc = shortcut == null ? x : shortcut.forward(x, it);
            return it.reluOfTemporary(it.addToTemporary(out, sc));
        }
    }

    /**
     * @param depth 6n + 2 (20, 32, 44, 56, 110, ...)
     * @param width filters of the first stage (16 for the standard networks)
     */
    public CifarResNet(int depth, int width, int inChannels, int numClasses, Init init) {
        this(depth, width, inChannels, numClasses, false, true, init);
    }

    /** a backbone (no {@code fc}); see the class comment for {@code dilateLastStage} */
    public static CifarResNet backbone(int depth, int width, int inChannels, boolean dilateLastStage, Init init) {
        return new CifarResNet(depth, width, inChannels, 0, dilateLastStage, false, init);
    }

    private CifarResNet(int depth, int width, int inChannels, int numClasses, boolean dilateLastStage, boolean head, Init init) {
        if (depth < 8 || (depth - 2) % 6 != 0)
            throw new IllegalArgumentException("CIFAR ResNet depth must be 6n+2 with n >= 1 (20, 32, 44, 56, 110), got " + depth);
        if (width < 1 || inChannels < 1 || (head && numClasses < 1))
            throw new IllegalArgumentException("CIFAR ResNet needs width, inChannels and numClasses >= 1, got "
                    + width + ", " + inChannels + ", " + numClasses);
        this.depth = depth; this.width = width; this.inChannels = inChannels; this.numClasses = head ? numClasses : 0;
        this.dilateLastStage = dilateLastStage;
        int n = (depth - 2) / 6;
        conv = registerModule("conv", new Conv2d(inChannels, width, 3, 1, 1, false, init));
        bn = registerModule("bn", new BatchNorm(width));
        blocks = registerModule("blocks", new Sequential());
        int current = width, dilation = 1;
        for (int stage = 0; stage < 3; stage++) {
            int filters = width << stage;
            boolean dilated = stage == 2 && dilateLastStage;
            for (int b = 0; b < n; b++) {
                int stride = stage > 0 && b == 0 && !dilated ? 2 : 1;
                blocks.add(new Block(current, filters, stride, dilation, init));
                if (dilated && b == 0) dilation = 2; // the first block of a dilated stage keeps the previous dilation
                current = filters;
            }
            stageEnds[stage] = blocks.size() - 1;
        }
        fc = head ? registerModule("fc", new Linear(current, numClasses, true, init)) : null;
    }

    @Override public int[] stageChannels() { return new int[] {width, 2 * width, 4 * width}; }

    @Override public Tensor[] stages(Tensor x, Interpreter it) {
        if (x.dim() != 4 || x.size(1) != inChannels)
            throw new IllegalArgumentException("CIFAR ResNet takes [N, " + inChannels + ", H, W] inputs, got "
                    + java.util.Arrays.toString(x.shape()));
        Tensor out = it.reluOfTemporary(bn.forward(conv.forward(x, it), it));
        Tensor[] f = new Tensor[3];
        for (int b = 0, stage = 0; b < blocks.size(); b++) {
            out = blocks.get(b).forward(out, it);
            if (b == stageEnds[stage]) f[stage++] = out;
        }
        return f;
    }

    /** the logits [N, numClasses]; a backbone returns the last stage's output */
    @Override public Tensor forward(Tensor x, Interpreter it) {
        Tensor out = stages(x, it)[2];
        return fc == null ? out : fc.forward(it.globalAvgPool(out), it);
    }
}
