package pxprune.nn;

import pxprune.core.Tensor;

/**
 * torch.nn.ReLU as a module: no parameters; it holds its index in a {@link Sequential} (as in
 * torchvision's {@code features.1}, {@code classifier.1}) so that the indices of the modules after
 * it are PyTorch's. Evaluated through {@link Interpreter#relu}.
 */
public final class ReLU extends Module {
    @Override public Tensor forward(Tensor x, Interpreter it) { return it.relu(x); }
}
