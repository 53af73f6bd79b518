package pxprune.kernels;

/**
 * Shapes of one 2-D pooling: input [n, c, h, w], a kh x kw window moved by sh x sw over the input
 * padded by ph x pw, output [n, c, oh, ow] with oh = floor((h + 2ph - kh)/sh) + 1 (and likewise
 * ow), PyTorch's rule ({@link ConvGeometry#outputSize} with dilation 1). The constructor rejects
 * every geometry the kernels of either backend cannot run, so a PoolGeometry that exists is safe to
 * hand to a backend: in particular the padding is at most half the window (PyTorch's rule), so that
 * every window overlaps the input and max pooling has an argmax in each.
 *
 * <p>{@link #toArray()} is the form the native kernels take: the fields of the {@code PxPool}
 * struct of native/src/main/cpp/pxops.h, in its order.
 */
public record PoolGeometry(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw) {
    public PoolGeometry {
        atLeast("batch size", n, 1);
        atLeast("channels", c, 1);
        atLeast("input height", h, 1);
        atLeast("input width", w, 1);
        atLeast("kernel height", kh, 1);
        atLeast("kernel width", kw, 1);
        atLeast("stride", sh, 1);
        atLeast("stride", sw, 1);
        atLeast("padding", ph, 0);
        atLeast("padding", pw, 0);
        if (2L * ph > kh || 2L * pw > kw)
            throw new IllegalArgumentException("pool2d: padding " + ph + "x" + pw + " is more than half the kernel " + kh + "x" + kw
                    + ", so a window could lie wholly in the padding; use padding <= kernel/2");
        long oh = ConvGeometry.outputSize(h, kh, sh, ph, 1), ow = ConvGeometry.outputSize(w, kw, sw, pw, 1);
        if (oh < 1 || ow < 1)
            throw new IllegalArgumentException("pool2d: calculated output size " + oh + "x" + ow + " is too small for input " + h
                    + "x" + w + " (kernel " + kh + "x" + kw + ", stride " + sh + "x" + sw + ", padding " + ph + "x" + pw
                    + "); use a larger input, more padding or a smaller kernel");
    }

    /** a square window of side kernel, the same stride and padding along both dims (PyTorch's MaxPool2d(kernel, stride, padding)) */
    public static PoolGeometry square(int n, int c, int h, int w, int kernel, int stride, int padding) {
        return new PoolGeometry(n, c, h, w, kernel, kernel, stride, stride, padding, padding);
    }

    private static void atLeast(String what, int v, int min) {
        if (v < min) throw new IllegalArgumentException("pool2d: " + what + " " + v + " must be >= " + min);
    }

    public int oh() { return (int) ConvGeometry.outputSize(h, kh, sh, ph, 1); }
    public int ow() { return (int) ConvGeometry.outputSize(w, kw, sw, pw, 1); }
    /** the number of [h, w] planes, n * c */
    public long planes() { return (long) n * c; }
    /** elements of one input plane, h * w */
    public long inPlane() { return (long) h * w; }
    /** elements of one output plane, oh * ow */
    public long outPlane() { return (long) oh() * ow(); }

    /** the native kernels' form: n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow (pxops.h's PxPool) */
    public int[] toArray() { return new int[] {n, c, h, w, kh, kw, sh, sw, ph, pw, oh(), ow()}; }
}
