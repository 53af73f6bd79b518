package pxprune.nn.models;

import pxprune.core.Ops;
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
 * torchvision). Two stems: ImageNet's (7x7 stride-2 convolution and a 3x3 stride-2 max pool) and
 * the small-image one used for Tiny-ImageNet (a 3x3 stride-1 convolution and no max pool).
 */
public final class ResNet extends Module {
    public final boolean bottleneck, smallStem;
    public final int inChannels, numClasses;
    private final Conv2d conv1;
    private final BatchNorm bn1;
    private final MaxPool2d maxpool; // null with the small stem
    private final Sequential[] stages = new Sequential[4];
    private final Linear fc;

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
            Tensor out = it.relu(bn1.forward(conv1.forward(x, it), it));
            out = bn2.forward(conv2.forward(out, it), it);
            Tensor identity = downsample == null ? x : downsample.forward(x, it);
            return it.relu(Ops.add(out, identity));
        }
    }

    /** torchvision's Bottleneck (expansion 4, stride in conv2) */
    public static final class Bottleneck extends Module {
        private final Conv2d conv1, conv2, conv3;
        private final BatchNorm bn1, bn2, bn3;
        private final Sequential downsample;

        Bottleneck(int in, int planes, int stride, Init init) {
            int out = planes * 4;
            conv1 = registerModule("conv1", new Conv2d(in, planes, 1, 1, 0, false, init));
            bn1 = registerModule("bn1", new BatchNorm(planes));
            conv2 = registerModule("conv2", new Conv2d(planes, planes, 3, stride, 1, false, init));
            bn2 = registerModule("bn2", new BatchNorm(planes));
            conv3 = registerModule("conv3", new Conv2d(planes, out, 1, 1, 0, false, init));
            bn3 = registerModule("bn3", new BatchNorm(out));
            downsample = stride != 1 || in != out ? registerModule("downsample",
                    new Sequential(new Conv2d(in, out, 1, stride, 0, false, init), new BatchNorm(out))) : null;
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            Tensor out = it.relu(bn1.forward(conv1.forward(x, it), it));
            out = it.relu(bn2.forward(conv2.forward(out, it), it));
            out = bn3.forward(conv3.forward(out, it), it);
            Tensor identity = downsample == null ? x : downsample.forward(x, it);
            return it.relu(Ops.add(out, identity));
        }
    }

    /**
     * @param blocksPerStage blocks in layer1..layer4 ({2,2,2,2} ResNet-18, {3,4,6,3} ResNet-50)
     * @param bottleneck Bottleneck blocks (ResNet-50/101/152) instead of BasicBlocks
     * @param smallStem 3x3 stride-1 stem without max pool (Tiny-ImageNet) instead of ImageNet's
     */
    public ResNet(int[] blocksPerStage, boolean bottleneck, boolean smallStem, int inChannels, int numClasses, Init init) {
        if (blocksPerStage.length != 4) throw new IllegalArgumentException("ResNet has 4 stages, got " + blocksPerStage.length);
        for (int b : blocksPerStage) if (b < 1) throw new IllegalArgumentException("every ResNet stage needs >= 1 block");
        if (inChannels < 1 || numClasses < 1)
            throw new IllegalArgumentException("ResNet needs inChannels and numClasses >= 1, got " + inChannels + ", " + numClasses);
        this.bottleneck = bottleneck; this.smallStem = smallStem; this.inChannels = inChannels; this.numClasses = numClasses;
        conv1 = registerModule("conv1", smallStem ? new Conv2d(inChannels, 64, 3, 1, 1, false, init)
                : new Conv2d(inChannels, 64, 7, 2, 3, false, init));
        bn1 = registerModule("bn1", new BatchNorm(64));
        maxpool = smallStem ? null : registerModule("maxpool", new MaxPool2d(3, 2, 1));
        int in = 64;
        for (int s = 0; s < 4; s++) {
            int planes = 64 << s;
            Sequential layer = registerModule("layer" + (s + 1), new Sequential());
            for (int b = 0; b < blocksPerStage[s]; b++) {
                int stride = s > 0 && b == 0 ? 2 : 1;
                if (bottleneck) { layer.add(new Bottleneck(in, planes, stride, init)); in = planes * 4; }
                else { layer.add(new BasicBlock(in, planes, stride, init)); in = planes; }
            }
            stages[s] = layer;
        }
        fc = registerModule("fc", new Linear(in, numClasses, true, init));
    }

    @Override public Tensor forward(Tensor x, Interpreter it) {
        Tensor out = it.relu(bn1.forward(conv1.forward(x, it), it));
        if (maxpool != null) out = maxpool.forward(out, it);
        for (Sequential s : stages) out = s.forward(out, it);
        return fc.forward(Ops.globalAvgPool(out), it);
    }
}
