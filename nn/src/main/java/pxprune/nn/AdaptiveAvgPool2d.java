package pxprune.nn;

import pxprune.core.Tensor;

/**
 * torch.nn.AdaptiveAvgPool2d((oh, ow)) as a module: no parameters; it holds its index in a
 * {@link Sequential} (torchvision's ASPPPooling {@code convs.4.0}) or its name ({@code avgpool}).
 * Evaluated through {@link Interpreter#resample} with {@link Resample#adaptiveAvg}: windows
 * start = floor(i*in/out), end = ceil((i+1)*in/out), so an output larger than the input repeats
 * input values as PyTorch does.
 */
public final class AdaptiveAvgPool2d extends Module {
    public final int oh, ow;
    private final Resample map;

    public AdaptiveAvgPool2d(int oh, int ow) {
        this.map = Resample.adaptiveAvg(oh, ow);
        this.oh = oh; this.ow = ow;
    }

    @Override public Tensor forward(Tensor x, Interpreter it) { return map.apply(x, it); }
}
