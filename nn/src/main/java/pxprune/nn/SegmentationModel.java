package pxprune.nn;

import java.util.Map;
import pxprune.core.Tensor;

/**
 * A dense-prediction model: {@link Module#forward} maps [N, C, H, W] images to [N, classes, H, W]
 * logits (the main head's output upsampled to the input size), as torchvision's segmentation
 * models' {@code forward(x)["out"]}. {@link #forwardAll} also gives the auxiliary head's output
 * where the model has one ("aux", torchvision's {@code aux_classifier}, for the training loss
 * {@code out_loss + 0.5 * aux_loss} of torchvision's reference recipe).
 */
public interface SegmentationModel {
    /** every output by name, each [N, classes, H, W] at the input's size: "out", and "aux" where {@link #hasAux()} */
    Map<String, Tensor> forwardAll(Tensor x, Interpreter it);

    /** whether {@link #forwardAll} has an "aux" output */
    boolean hasAux();

    /** the channels of the output (classes, the background included) */
    int numClasses();
}
