package pxprune.nn.models;

import java.util.Arrays;
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
 * torchvision's ResNet ({@code torchvision/models/resnet.py}) with its parameter names:
 * {@code conv1, bn1, layer1..layer4 (blocks .0, .1, ... with conv1/bn1/conv2/bn2[/conv3/bn3] and
 * downsample.0/1), fc}. Bottleneck blocks stride in their 3x3 convolution (ResNet v1.5, as
 * torchvision). Two stems: ImageNet's (7x7 stride-2 convolution, batch norm, ReLU and a 3x3
 * stride-2 max pool with padding 1) and the small-image one used for Tiny-ImageNet (a 3x3 stride-1
 * convolution and no max pool).
 *
 * <p>{@code replaceStrideWithDilation} is torchvision's {@code replace_stride_with_dilation} for
 * layer2..layer4: such a stage keeps the resolution (stride 1, also in its {@code downsample}
 * 1x1 convolution) and multiplies the dilation of its 3x3 convolutions by 2 instead; as in
 * torchvision's {@code _make_layer}, the first block of the stage still uses the previous
 * dilation, the others the new one (padding = dilation). Only Bottleneck blocks dilate
 * (torchvision's BasicBlock refuses it too). A {@linkplain #backbone backbone} has no {@code fc}
 * (torchvision's {@code IntermediateLayerGetter} drops {@code avgpool} and {@code fc}); its
 * {@link #forward} returns layer4's output and {@link #stages} every stage's.
 */
public final class ResNet extends Module implements Backbone {
    public final boolean bottleneck, smallStem;
    public final int inChannels, numClasses; // numClasses 0: a backbone without fc
    private final boolean[] dilate;
    private final Conv2d conv1;
    private final BatchNorm bn1;
    private final MaxPool2d maxpool; // null with the small stem
    private final Sequential[] stages = new Sequential[4];
    private final int[] stageChannels = new int[4];
    private final Linear fc; // null in a backbone

    /** torchvision's BasicBlock (expansion 1) */
    public static final class BasicBlock extends Module {
        private final Conv2d conv1, conv2;
        private final BatchNorm bn1, bn2;
        private final Sequential downsample;

        BasicBlock(int in, int planes, int stride, Init init) {
            conv1 = registerModule("conv1", new Conv2d(in, planes, 3, stride, 1, false, init));
            bn1 = registerModule("bn1", new BatchNorm(planes));
            conv2 = registerModule("conv2", new Conv2d(planes, planes, 3, 1, 1, false, init));
            bn2 = registerModule("bn2", new BatchNorm(planes));
            downsample = stride != 1 || in != planes ? registerModule("downsample",
                    new Sequential(new Conv2d(in, planes, 1, stride, 0, false, init), new BatchNorm(planes))) : null;
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            Tensor out = it.reluOfTemporary(bn1.forward(conv1.forward(x, it), it));
            out = bn2.forward(conv2.forward(out, it), it);
            Tensor identity = downsample == null ? x : downsample.forward(x, it);
            return it.reluOfTemporary(it.addToTemporary(out, identity));
        }
    }

    /** torchvision's Bottleneck (expansion 4, stride and dilation in conv2) */
    public static final class Bottleneck extends Module {
        private final Conv2d conv1, conv2, conv3;
        private final BatchNorm bn1, bn2, bn3;
        private final Sequential downsample;

        Bottleneck(int in, int planes, int stride, int dilation, Init init) {
            int out = planes * 4;
            conv1 = registerModule("conv1", new Conv2d(in, planes, 1, 1, 0, false, init));
            bn1 = registerModule("bn1", new BatchNorm(planes));
            conv2 = registerModule("conv2", new Conv2d(planes, planes, 3, stride, dilation, dilation, 1, false, init));
            bn2 = registerModule("bn2", new BatchNorm(planes));
            conv3 = registerModule("conv3", new Conv2d(planes, out, 1, 1, 0, false, init));
            bn3 = registerModule("bn3", new BatchNorm(out));
            downsample = stride != 1 || in != out ? registerModule("downsample",
                    new Sequential(new Conv2d(in, out, 1, stride, 0, false, init), new BatchNorm(out))) : null;
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            Tensor out = it.reluOfTemporary(bn1.forward(conv1.forward(x, it), it));
            out = it.reluOfTemporary(bn2.forward(conv2.forward(out, it), it));
            out = bn3.forward(conv3.forward(out, it), it);
            Tensor identity = downsample == null ? x : downsample.forward(x, it);
            return it.reluOfTemporary(it.addToTemporary(out, identity));
        }
    }

    /**
     * A classifier without dilation (torchvision's {@code resnet18(num_classes=...)} etc.).
     *
     * @param blocksPerStage blocks in layer1..layer4 ({2,2,2,2} ResNet-18, {3,4,6,3} ResNet-50)
     * @param bottleneck Bottleneck blocks (ResNet-50/101/152) instead of BasicBlocks
     * @param smallStem 3x3 stride-1 stem without max pool (Tiny-ImageNet) instead of ImageNet's
     */
    public ResNet(int[] blocksPerStage, boolean bottleneck, boolean smallStem, int inChannels, int numClasses, Init init) {
        this(blocksPerStage, bottleneck, smallStem, new boolean[3], inChannels, numClasses, init);
    }

    /**
     * A classifier with torchvision's {@code replace_stride_with_dilation} (three flags, layer2..layer4).
     *
     * @throws IllegalArgumentException for bad stage counts or sizes, or dilation with BasicBlocks
     */
    public ResNet(int[] blocksPerStage, boolean bottleneck, boolean smallStem, boolean[] replaceStrideWithDilation,
                  int inChannels, int numClasses, Init init) {
        this(blocksPerStage, bottleneck, smallStem, replaceStrideWithDilation, inChannels, numClasses, true, init);
    }

    /**
     * A backbone (no {@code fc}): the ImageNet stem and layer1..layer4 with torchvision's
     * {@code replace_stride_with_dilation}, e.g. {F, T, T} for DeepLabV3's output stride 8.
     */
    public static ResNet backbone(int[] blocksPerStage, boolean[] replaceStrideWithDilation, int inChannels, Init init) {
        return new ResNet(blocksPerStage, true, false, replaceStrideWithDilation, inChannels, 0, false, init);
    }

    private ResNet(int[] blocksPerStage, boolean bottleneck, boolean smallStem, boolean[] dilate, int inChannels,
                   int numClasses, boolean head, Init init) {
        if (blocksPerStage.length != 4) throw new IllegalArgumentException("ResNet has 4 stages, got " + blocksPerStage.length);
        for (int b : blocksPerStage) if (b < 1) throw new IllegalArgumentException("every ResNet stage needs >= 1 block");
        if (dilate == null || dilate.length != 3)
            throw new IllegalArgumentException("replace_stride_with_dilation needs 3 flags (layer2..layer4), got "
                    + (dilate == null ? "null" : Arrays.toString(dilate)));
        if (!bottleneck && (dilate[0] || dilate[1] || dilate[2]))
            throw new IllegalArgumentException("ResNet with BasicBlocks (ResNet-18/34) cannot replace strides with dilation "
                    + Arrays.toString(dilate) + " (torchvision: 'Dilation > 1 not supported in BasicBlock'); use a Bottleneck ResNet");
        if (inChannels < 1 || (head && numClasses < 1))
            throw new IllegalArgumentException("ResNet needs inChannels and numClasses >= 1, got " + inChannels + ", " + numClasses);
        this.bottleneck = bottleneck; this.smallStem = smallStem; this.inChannels = inChannels;
        this.numClasses = head ? numClasses : 0; this.dilate = dilate.clone();
        conv1 = registerModule("conv1", smallStem ? new Conv2d(inChannels, 64, 3, 1, 1, false, init)
                : new Conv2d(inChannels, 64, 7, 2, 3, false, init));
        bn1 = registerModule("bn1", new BatchNorm(64));
        maxpool = smallStem ? null : registerModule("maxpool", new MaxPool2d(3, 2, 1));
        int in = 64, dilation = 1;
        for (int s = 0; s < 4; s++) {
            int planes = 64 << s, stride = s == 0 ? 1 : 2, previousDilation = dilation;
            if (s > 0 && dilate[s - 1]) { dilation *= stride; stride = 1; }
            Sequential layer = registerModule("layer" + (s + 1), new Sequential());
            for (int b = 0; b < blocksPerStage[s]; b++) {
                if (bottleneck) {
                    layer.add(new Bottleneck(in, planes, b == 0 ? stride : 1, b == 0 ? previousDilation : dilation, init));
                    in = planes * 4;
                } else { layer.add(new BasicBlock(in, planes, b == 0 ? stride : 1, init)); in = planes; }
            }
            stages[s] = layer;
            stageChannels[s] = in;
        }
        fc = head ? registerModule("fc", new Linear(in, numClasses, true, init)) : null;
    }

    /** torchvision's replace_stride_with_dilation flags (layer2..layer4) */
    public boolean[] replaceStrideWithDilation() { return dilate.clone(); }

    /** the input's side divided by layer4's (32 without dilation, 16 with {F, F, T}, 8 with {F, T, T}; 8 with the small stem) */
    public int outputStride() {
        int s = smallStem ? 1 : 4;
        for (boolean d : dilate) if (!d) s *= 2;
        return s;
    }

    @Override public int[] stageChannels() { return stageChannels.clone(); }

    @Override public Tensor[] stages(Tensor x, Interpreter it) {
        if (x.dim() != 4 || x.size(1) != inChannels)
            throw new IllegalArgumentException("ResNet takes [N, " + inChannels + ", H, W] inputs, got " + Arrays.toString(x.shape()));
        Tensor out = it.reluOfTemporary(bn1.forward(conv1.forward(x, it), it));
        if (maxpool != null) out = maxpool.forward(out, it);
        Tensor[] f = new Tensor[4];
        for (int s = 0; s < 4; s++) out = f[s] = stages[s].forward(out, it);
        return f;
    }

    /** the logits [N, numClasses] (global average pooling and fc); a backbone returns layer4's output */
    @Override public Tensor forward(Tensor x, Interpreter it) {
        Tensor out = stages(x, it)[3];
        return fc == null ? out : fc.forward(it.globalAvgPool(out), it);
    }
}
