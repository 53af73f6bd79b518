package pxprune.nn.models;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import pxprune.core.Tensor;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Dropout;
import pxprune.nn.Init;
import pxprune.nn.Interpreter;
import pxprune.nn.Module;
import pxprune.nn.ReLU;
import pxprune.nn.Resample;
import pxprune.nn.SegmentationModel;
import pxprune.nn.Sequential;

/**
 * DeepLabV3 (Chen et al. 2017, "Rethinking Atrous Convolution for Semantic Image Segmentation")
 * in torchvision's layout ({@code torchvision.models.segmentation.deeplabv3_resnet50/101}):
 * {@code backbone} -> {@code classifier} on the last stage -> bilinear upsampling
 * (align_corners=False) to the input size; optionally {@code aux_classifier} on the third stage,
 * upsampled the same way ({@link #forwardAll} "aux").
 *
 * <p>{@link #torchvision}: {@code backbone} is a {@link ResNet} backbone with
 * replace_stride_with_dilation [False, True, True] (output stride 8; {@code backbone.conv1},
 * {@code backbone.layer4.2.conv3.weight}, no fc); {@code classifier} is DeepLabHead: {@code
 * classifier.0} = {@link ASPP}(2048, rates 12/24/36, 256 channels, dropout 0.5) ({@code
 * classifier.0.convs.0..4}, {@code classifier.0.project}), {@code classifier.1} 3x3 conv 256 ->
 * 256 (no bias), {@code classifier.2} BN, ReLU, {@code classifier.4} 1x1 conv 256 -> classes with
 * bias; {@code aux_classifier} is FCNHead(1024): {@code aux_classifier.0} 3x3 conv 1024 -> 256, {@code .1}
 * BN, ReLU, Dropout(0.1), {@code .4} 1x1 conv 256 -> classes with bias.
 *
 * <p>{@link #small}: {@code deeplabv3_resnet20}, a CIFAR ResNet-20 backbone ({@code backbone.conv},
 * {@code backbone.blocks.0..8}, widths 16/32/64, the last stage dilated: output stride 2) and
 * {@code classifier.0} = ASPP(64, rates 1/2/3, 32 channels, dropout 0.1), {@code classifier.1} 1x1
 * conv 32 -> classes with bias. Trains in seconds on 32x32 images on a CPU.
 */
public final class DeepLabV3 extends Module implements SegmentationModel {
    public final int inChannels, numClasses;
    private final Module backbone, classifier, aux;
    private final Backbone stages;
    private final int outStage, auxStage;

    private <B extends Module & Backbone> DeepLabV3(B backbone, int outStage, Module classifier, int auxStage, Module aux,
                                                  int inChannels, int numClasses) {
        this.backbone = registerModule("backbone", backbone);
        this.stages = backbone;
        this.classifier = registerModule("classifier", classifier);
        this.aux = aux == null ? null : registerModule("aux_classifier", aux);
        this.outStage = outStage; this.auxStage = auxStage;
        this.inChannels = inChannels; this.numClasses = numClasses;
    }

    private static void checkSizes(int inChannels, int numClasses) {
        if (inChannels < 1 || numClasses < 1)
            throw new IllegalArgumentException("DeepLabV3 needs inChannels and numClasses >= 1, got " + inChannels + ", " + numClasses);
    }

    /**
     * torchvision's {@code deeplabv3_resnet50/101(num_classes=..., aux_loss=aux)}.
     *
     * @param blocksPerStage {3, 4, 6, 3} (ResNet-50) or {3, 4, 23, 3} (ResNet-101)
     * @param dropout the ASPP projection's dropout (torchvision: 0.5); the aux head's is 0.1
     */
    public static DeepLabV3 torchvision(int[] blocksPerStage, boolean aux, int inChannels, int numClasses, double dropout, Init init) {
        checkSizes(inChannels, numClasses);
        ResNet backbone = ResNet.backbone(blocksPerStage, new boolean[] {false, true, true}, inChannels, init);
        Module head = new Sequential(new ASPP(2048, new int[] {12, 24, 36}, 256, dropout, init),
                new Conv2d(256, 256, 3, 1, 1, false, init), new BatchNorm(256), new ReLU(),
                new Conv2d(256, numClasses, 1, 1, 0, true, init));
        Module auxHead = aux ? fcnHead(1024, numClasses, init) : null;
        return new DeepLabV3(backbone, 3, head, 2, auxHead, inChannels, numClasses);
    }

    /** torchvision's FCNHead(in, classes): 3x3 conv in -> in/4 (no bias), BN, ReLU, Dropout(0.1), 1x1 conv -> classes */
    static Module fcnHead(int in, int numClasses, Init init) {
        int inter = in / 4;
        return new Sequential(new Conv2d(in, inter, 3, 1, 1, false, init), new BatchNorm(inter), new ReLU(), new Dropout(0.1),
                new Conv2d(inter, numClasses, 1, 1, 0, true, init));
    }

    /** {@code deeplabv3_resnet20}: see the class comment */
    public static DeepLabV3 small(int inChannels, int numClasses, Init init) {
        checkSizes(inChannels, numClasses);
        CifarResNet backbone = CifarResNet.backbone(20, 16, inChannels, true, init);
        Module head = new Sequential(new ASPP(64, new int[] {1, 2, 3}, 32, 0.1, init), new Conv2d(32, numClasses, 1, 1, 0, true, init));
        return new DeepLabV3(backbone, 2, head, -1, null, inChannels, numClasses);
    }

    @Override public boolean hasAux() { return aux != null; }

    @Override public int numClasses() { return numClasses; }

    /** the backbone (loadable from a classification checkpoint with {@code StateDicts.loadBackbone}) */
    public Module backbone() { return backbone; }

    @Override public Map<String, Tensor> forwardAll(Tensor x, Interpreter it) {
        if (x.dim() != 4 || x.size(1) != inChannels)
            throw new IllegalArgumentException("DeepLabV3 takes [N, " + inChannels + ", H, W] images, got " + Arrays.toString(x.shape()));
        Resample up = Resample.bilinear(x.size(2), x.size(3), false);
        Tensor[] f = stages.stages(x, it);
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("out", up.apply(classifier.forward(f[outStage], it), it));
        if (aux != null) out.put("aux", up.apply(aux.forward(f[auxStage], it), it));
        return out;
    }

    /** the main output [N, classes, H, W] (the aux head is not evaluated) */
    @Override public Tensor forward(Tensor x, Interpreter it) {
        if (x.dim() != 4 || x.size(1) != inChannels)
            throw new IllegalArgumentException("DeepLabV3 takes [N, " + inChannels + ", H, W] images, got " + Arrays.toString(x.shape()));
        Tensor[] f = stages.stages(x, it);
        return Resample.bilinear(x.size(2), x.size(3), false).apply(classifier.forward(f[outStage], it), it);
    }
}
