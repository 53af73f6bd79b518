package pxprune.nn;

import java.util.SplittableRandom;
import pxprune.core.Tensor;

/**
 * Seeded weight initialisation (no global RNG): Kaiming-normal weights (fan-in, gain sqrt(2), as
 * torch.nn.init.kaiming_normal_) and PyTorch's default uniform bias, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 * {@link #zeros()} skips the draws (all weights and biases 0) for a model whose every value is
 * loaded afterwards from a checkpoint: drawing VGG-16's 138M Gaussians takes seconds.
 */
public final class Init {
    private final SplittableRandom rng; // null: zeros

    public Init(long seed) { this.rng = new SplittableRandom(seed); }

    private Init() { this.rng = null; }

    /** weights and biases 0 (batch norms as always weight 1, bias 0): for models loaded from a checkpoint next */
    public static Init zeros() { return new Init(); }

    private double gaussian() {
        // Box-Muller on the splittable generator (deterministic for the seed)
        double u1 = rng.nextDouble(), u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    public Tensor kaimingNormal(int fanIn, int... shape) {
        if (rng == null) return Tensor.zeros(pxprune.kernels.DType.F32, shape);
        double std = Math.sqrt(2.0 / fanIn);
        float[] v = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (gaussian() * std);
        return Tensor.of(v, shape);
    }

    public Tensor uniformBias(int fanIn, int n) {
        if (rng == null) return Tensor.zeros(pxprune.kernels.DType.F32, n);
        double b = 1 / Math.sqrt(fanIn);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * b);
        return Tensor.of(v, n);
    }
}
