package pxprune.nn.models;

import pxprune.core.Tensor;
import pxprune.nn.Interpreter;

/**
 * A feature extractor for dense-prediction heads: the outputs of its stages (torchvision's
 * {@code IntermediateLayerGetter} over {@code layer1 .. layer4}), computed in one pass.
 */
public interface Backbone {
    /** the output of every stage, first to last (ResNet: layer1 .. layer4) */
    Tensor[] stages(Tensor x, Interpreter it);

    /** the channels of each stage's output */
    int[] stageChannels();
}
