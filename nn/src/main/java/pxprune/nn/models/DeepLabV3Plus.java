package pxprune.nn.models;

import java.util.Arrays;
import java.util.Map;
import pxprune.core.Tensor;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Init;
import pxprune.nn.Interpreter;
import pxprune.nn.Module;
import pxprune.nn.ReLU;
import pxprune.nn.Resample;
import pxprune.nn.SegmentationModel;
import pxprune.nn.Sequential;

/**
 * DeepLabV3+ (Chen et al. 2018, "Encoder-Decoder with Atrous Separable Convolution") in the layout
 * of VainF's DeepLabV3Plus-Pytorch ({@code network.deeplabv3plus_resnet50/101(num_classes, output_stride=16)}),
 * the one the PX authors evaluated. Parameter names:
 * <ul>
 * <li>{@code backbone.*}: a {@link ResNet} backbone with replace_stride_with_dilation [False, False, True]
 *     (output stride 16), torchvision's names ({@code backbone.conv1.weight}, {@code backbone.layer4.2.conv3.weight}), no fc;
 * <li>{@code classifier.project.0} 1x1 conv 256 -> 48 (no bias), {@code classifier.project.1} BN, ReLU: the
 *     low-level features of layer1;
 * <li>{@code classifier.aspp.*}: {@link ASPP}(2048, rates 6/12/18, 256 channels, dropout 0.1)
 *     ({@code classifier.aspp.convs.0..4}, {@code classifier.aspp.project.0/1});
 * <li>{@code classifier.classifier.0} 3x3 conv 304 -> 256 padding 1 (no bias), {@code classifier.classifier.1} BN,
 *     ReLU, {@code classifier.classifier.3} 1x1 conv 256 -> classes with bias.
 * </ul>
 * Forward: the ASPP output is upsampled bilinearly (align_corners=False) to layer1's size,
 * concatenated after the 48 low-level channels ([low 48, aspp 256]), classified, and upsampled
 * the same way to the input size. No aux head ({@link #forwardAll} has "out" only).
 */
public final class DeepLabV3Plus extends Module implements SegmentationModel {
    public final int inChannels, numClasses;
    private final ResNet backbone;
    private final Head classifier;

    /** VainF's DeepLabHeadV3Plus: {@code project}, {@code aspp}, {@code classifier} */
    public static final class Head extends Module {
        private final Sequential project, classifier;
        private final ASPP aspp;

        Head(int in, int lowLevel, int numClasses, int[] rates, double dropout, Init init) {
            project = registerModule("project", new Sequential(new Conv2d(lowLevel, 48, 1, 1, 0, false, init), new BatchNorm(48), new ReLU()));
            aspp = registerModule("aspp", new ASPP(in, rates, 256, dropout, init));
            classifier = registerModule("classifier", new Sequential(new Conv2d(48 + 256, 256, 3, 1, 1, false, init),
                    new BatchNorm(256), new ReLU(), new Conv2d(256, numClasses, 1, 1, 0, true, init)));
        }

        Tensor forward(Tensor lowLevel, Tensor out, Interpreter it) {
            Tensor low = project.forward(lowLevel, it);
            Tensor a = Resample.bilinear(low.size(2), low.size(3), false).apply(aspp.forward(out, it), it);
            return classifier.forward(it.cat(1, low, a), it);
        }

        /** a head takes two feature maps: call DeepLabV3Plus.forward instead */
        @Override public Tensor forward(Tensor x, Interpreter it) {
            throw new UnsupportedOperationException("the DeepLabV3+ head takes layer1's and layer4's features; run the whole model");
        }
    }

    /**
     * @param blocksPerStage {3, 4, 6, 3} (ResNet-50) or {3, 4, 23, 3} (ResNet-101)
     * @param dropout the ASPP projection's dropout (VainF: 0.1)
     */
    public DeepLabV3Plus(int[] blocksPerStage, int inChannels, int numClasses, double dropout, Init init) {
        if (inChannels < 1 || numClasses < 1)
            throw new IllegalArgumentException("DeepLabV3+ needs inChannels and numClasses >= 1, got " + inChannels + ", " + numClasses);
        this.inChannels = inChannels; this.numClasses = numClasses;
        backbone = registerModule("backbone", ResNet.backbone(blocksPerStage, new boolean[] {false, false, true}, inChannels, init));
        int[] ch = backbone.stageChannels();
        classifier = registerModule("classifier", new Head(ch[3], ch[0], numClasses, new int[] {6, 12, 18}, dropout, init));
    }

    @Override public boolean hasAux() { return false; }

    @Override public int numClasses() { return numClasses; }

    /** the backbone (loadable from a classification checkpoint with {@code StateDicts.loadBackbone}) */
    public Module backbone() { return backbone; }

    @Override public Map<String, Tensor> forwardAll(Tensor x, Interpreter it) { return Map.of("out", forward(x, it)); }

    @Override public Tensor forward(Tensor x, Interpreter it) {
        if (x.dim() != 4 || x.size(1) != inChannels)
            throw new IllegalArgumentException("DeepLabV3+ takes [N, " + inChannels + ", H, W] images, got " + Arrays.toString(x.shape()));
        Tensor[] f = backbone.stages(x, it);
        Tensor y = classifier.forward(f[0], f[3], it);
        return Resample.bilinear(x.size(2), x.size(3), false).apply(y, it);
    }
}
