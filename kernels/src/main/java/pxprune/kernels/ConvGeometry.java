package pxprune.kernels;

/**
 * Shapes of one 2-D convolution: input [n, c, h, w], weight [k, c/groups, kh, kw], output
 * [n, k, oh, ow] with oh = floor((h + 2ph - dh(kh-1) - 1)/sh) + 1 (and likewise ow), PyTorch's
 * rule. The constructor rejects every geometry the kernels of either backend cannot run, so a
 * ConvGeometry that exists is safe to hand to a backend.
 */
public record ConvGeometry(int n, int c, int h, int w, int k, int kh, int kw, int sh, int sw, int ph, int pw,
                           int dh, int dw, int groups) {
    public ConvGeometry {
        atLeast("batch size", n, 1);
        atLeast("in_channels", c, 1);
        atLeast("out_channels", k, 1);
        atLeast("input height", h, 1);
        atLeast("input width", w, 1);
        atLeast("kernel height", kh, 1);
        atLeast("kernel width", kw, 1);
        atLeast("stride", sh, 1);
        atLeast("stride", sw, 1);
        atLeast("padding", ph, 0);
        atLeast("padding", pw, 0);
        atLeast("dilation", dh, 1);
        atLeast("dilation", dw, 1);
        if (groups < 1 || c % groups != 0 || k % groups != 0)
            throw new IllegalArgumentException("conv2d: groups=" + groups + " must be >= 1 and divide in_channels=" + c
                    + " and out_channels=" + k);
        long oh = outputSize(h, kh, sh, ph, dh), ow = outputSize(w, kw, sw, pw, dw);
        if (oh < 1 || ow < 1)
            throw new IllegalArgumentException("conv2d: calculated output size " + oh + "x" + ow + " is too small for input "
                    + h + "x" + w + " (kernel " + kh + "x" + kw + ", stride " + sh + "x" + sw + ", padding " + ph + "x" + pw
                    + ", dilation " + dh + "x" + dw + "); use a larger input, more padding or a smaller kernel");
        if (oh > Integer.MAX_VALUE || ow > Integer.MAX_VALUE)
            throw new IllegalArgumentException("conv2d: calculated output size " + oh + "x" + ow + " does not fit an int; "
                    + "use less padding (" + ph + "x" + pw + ")");
    }

    private static void atLeast(String what, int v, int min) {
        if (v < min) throw new IllegalArgumentException("conv2d: " + what + " " + v + " must be >= " + min);
    }

    /**
     * PyTorch's output size of a convolution or pooling window along one dim,
     * floor((in + 2 padding - dilation (kernel - 1) - 1) / stride) + 1, rounded down also when the
     * numerator is negative (a kernel larger than the padded input gives 0 or less, never 1).
     * stride must be >= 1.
     */
    public static long outputSize(int in, int kernel, int stride, int padding, int dilation) {
        long span = (long) in + 2L * padding - (long) dilation * (kernel - 1) - 1;
        return Math.floorDiv(span, stride) + 1;
    }

    public int oh() { return (int) outputSize(h, kh, sh, ph, dh); }
    public int ow() { return (int) outputSize(w, kw, sw, pw, dw); }
    /** rows of the im2col matrix of one group */
    public int groupRows() { return c / groups * kh * kw; }
    public long flops() { return 2L * n * k * oh() * ow() * groupRows(); }
}
