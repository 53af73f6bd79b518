package pxprune.nn;

import pxprune.core.Ops;
import pxprune.core.Tensor;

/**
 * A fixed linear resampling of the spatial dims of [N, C, H, W] to [N, C, oh, ow]: bilinear
 * interpolation (PyTorch's {@code F.interpolate(mode='bilinear', align_corners=...)}) or adaptive
 * average pooling ({@code F.adaptive_avg_pool2d}). Both are separable, y = mh x mw^T, with the
 * matrices of {@link #rowMatrix} and {@link #colMatrix}. Models evaluate it through
 * {@link Interpreter#resample}, because PX's auxiliary networks use the map's support and its
 * squared coefficients instead of the coefficients (docs/px-method.md#pooling-resampling-sums).
 */
public record Resample(Kind kind, int oh, int ow, boolean alignCorners) {
    public enum Kind { BILINEAR, ADAPTIVE_AVG }

    public Resample {
        if (kind == null) throw new IllegalArgumentException("Resample: kind is null");
        if (oh < 1 || ow < 1) throw new IllegalArgumentException("Resample: output size " + oh + "x" + ow + " must be at least 1x1");
        if (kind == Kind.ADAPTIVE_AVG && alignCorners)
            throw new IllegalArgumentException("Resample: align_corners applies to bilinear interpolation only");
    }

    public static Resample bilinear(int oh, int ow, boolean alignCorners) { return new Resample(Kind.BILINEAR, oh, ow, alignCorners); }

    public static Resample adaptiveAvg(int oh, int ow) { return new Resample(Kind.ADAPTIVE_AVG, oh, ow, false); }

    /** the [oh][h] matrix applied along the height (row-major) */
    public double[] rowMatrix(int h) { return matrix(h, oh); }

    /** the [ow][w] matrix applied along the width (row-major) */
    public double[] colMatrix(int w) { return matrix(w, ow); }

    private double[] matrix(int in, int out) {
        return kind == Kind.BILINEAR ? Ops.bilinearMatrix(in, out, alignCorners) : Ops.adaptiveAvgMatrix(in, out);
    }

    /** this map through the interpreter */
    public Tensor apply(Tensor x, Interpreter it) { return it.resample(this, x); }

    /** the map itself (what {@link Interpreter#STANDARD} does) */
    public Tensor standardForward(Tensor x) { return mapWith(x, java.util.function.DoubleUnaryOperator.identity()); }

    /**
     * the map with every coefficient c replaced by f(c) (f(0) must be 0, so the support is kept):
     * f = identity is the map, c -> c^2 and c -> 1[c > 0] are PX's path-kernel and activation versions.
     * Since both matrices are transformed separately this is exact for any f with f(ab) = f(a) f(b).
     */
    public Tensor mapWith(Tensor x, java.util.function.DoubleUnaryOperator f) {
        if (x.dim() != 4) throw new IllegalArgumentException("Resample takes [N, C, H, W], got " + java.util.Arrays.toString(x.shape()));
        int h = x.size(2), w = x.size(3);
        double[] mh = rowMatrix(h), mw = colMatrix(w);
        for (int i = 0; i < mh.length; i++) mh[i] = f.applyAsDouble(mh[i]);
        for (int i = 0; i < mw.length; i++) mw[i] = f.applyAsDouble(mw[i]);
        return Ops.spatialMap(x, Ops.matrixLike(x, mh, oh, h), Ops.matrixLike(x, mw, ow, w));
    }
}
