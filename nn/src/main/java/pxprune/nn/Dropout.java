package pxprune.nn;

import pxprune.core.Ops;
import pxprune.core.Tensor;

/**
 * PyTorch's Dropout(p): identity in eval mode; in training mode zeroes each element with
 * probability p and scales the rest by 1/(1-p). The mask comes from a seed, not a global random
 * generator: {@link #reseed(Module, long)} sets every Dropout of a model for the next step (the
 * trainer calls it with a seed derived from the run's seed, epoch and batch, so a resumed run
 * repeats its masks); each call of a module in between advances its own seed by one.
 */
public final class Dropout extends Module {
    public final double p;
    private long seed;

    public Dropout(double p) {
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("Dropout: p " + p + " must be in [0, 1)");
        this.p = p;
    }

    /** sets the seed of every Dropout in model: module i (in namedModules order) gets a seed derived from (seed, i) */
    public static void reseed(Module model, long seed) {
        int i = 0;
        for (Module m : model.namedModules().values())
            if (m instanceof Dropout d) d.seed = mix(seed + 0x9E3779B97F4A7C15L * ++i);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override public Tensor forward(Tensor x, Interpreter it) {
        if (!isTraining() || p == 0) return x;
        return Ops.dropout(x, p, seed++);
    }
}
