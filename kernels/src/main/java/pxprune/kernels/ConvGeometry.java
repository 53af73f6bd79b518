package pxprune.kernels;

/**
 * Shapes of one 2-D convolution: input [n, c, h, w], weight [k, c/groups, kh, kw], output
 * [n, k, oh, ow] with oh = (h + 2ph - dh(kh-1) - 1)/sh + 1 (and likewise ow).
 */
public record ConvGeometry(int n, int c, int h, int w, int k, int kh, int kw, int sh, int sw, int ph, int pw,
                           int dh, int dw, int groups) {
    public ConvGeometry {
        if (groups < 1 || c % groups != 0 || k % groups != 0)
            throw new IllegalArgumentException("conv2d: groups=" + groups + " must divide in_channels=" + c
                    + " and out_channels=" + k);
        if (oh(h, kh, sh, ph, dh) < 1 || oh(w, kw, sw, pw, dw) < 1)
            throw new IllegalArgumentException("conv2d: input " + h + "x" + w + " is smaller than the kernel "
                    + kh + "x" + kw + " (padding " + ph + "x" + pw + "); use a larger input or more padding");
    }

    private static int oh(int h, int kh, int sh, int ph, int dh) { return (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1; }

    public int oh() { return oh(h, kh, sh, ph, dh); }
    public int ow() { return oh(w, kw, sw, pw, dw); }
    /** rows of the im2col matrix of one group */
    public int groupRows() { return c / groups * kh * kw; }
    public long flops() { return 2L * n * k * oh() * ow() * groupRows(); }
}
