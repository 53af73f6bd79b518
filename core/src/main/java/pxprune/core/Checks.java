package pxprune.core;

import java.util.Arrays;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.DType;
import pxprune.kernels.PoolGeometry;

/**
 * The argument checks of the ops, run in Java before any kernel of any backend sees the
 * arguments (the kernels trust their callers: a wrong size there reads or writes past a buffer).
 * Every failure is an IllegalArgumentException "op: argument value problem; fix", following
 * PyTorch's rules. Convolution geometry is checked by {@link ConvGeometry} itself; pooling reuses
 * its output-size formula.
 */
final class Checks {
    private Checks() {}

    static IllegalArgumentException fail(String op, String message) {
        return new IllegalArgumentException(op + ": " + message);
    }

    static String shape(Tensor t) { return Arrays.toString(t.shapeRef()); }

    /** a and b on the same device with the same dtype */
    static void sameType(String op, Tensor a, Tensor b) {
        if (a.dtype() != b.dtype())
            throw fail(op, "dtypes differ (" + a.dtype() + " vs " + b.dtype() + "); convert one with to()");
        if (a.device() != b.device())
            throw fail(op, "devices differ (" + a.device() + " vs " + b.device() + "); move one to the other's device");
    }

    /** t holds F32 or F64 values (I32 tensors are indices, U8 tensors flags, not operands) */
    static void floating(String op, String arg, Tensor t) {
        if (t.dtype() != DType.F32 && t.dtype() != DType.F64)
            throw fail(op, arg + (t.dtype() == DType.I32 ? " is an " : " is a ") + t.dtype() + " tensor " + shape(t) + "; arithmetic needs F32 or F64"
                    + (t.dtype() == DType.I32 ? " (convert it with to())" : ""));
    }

    static void atLeast(String op, String arg, long value, long min) {
        if (value < min) throw fail(op, arg + " " + value + " must be >= " + min);
    }

    /** t has one of the given numbers of dimensions; layout names them, e.g. "[N, C, H, W]" */
    static void dims(String op, String arg, Tensor t, String layout, int... allowed) {
        for (int d : allowed) if (t.dim() == d) return;
        StringBuilder want = new StringBuilder();
        for (int i = 0; i < allowed.length; i++) want.append(i == 0 ? "" : " or ").append(allowed[i]).append("-D");
        throw fail(op, arg + " must be " + want + " " + layout + ", got " + t.dim() + "-D " + shape(t));
    }

    /** dim d (negative counts from the end) of an nd-dimensional tensor, as an index 0..nd-1 */
    static int dim(String op, int d, int nd) {
        if (d < -nd || d >= nd)
            throw fail(op, "dim " + d + " is out of range for a " + nd + "-D tensor; use " + -nd + ".." + (nd - 1));
        return d < 0 ? d + nd : d;
    }

    /** every size of t is >= 1 */
    static void nonEmpty(String op, String arg, Tensor t) {
        if (t.numel() == 0) throw fail(op, arg + " " + shape(t) + " is empty; every dimension must be >= 1");
    }

    /**
     * v (when not null) is a vector of the given length with the dtype and device of like: a bias
     * or a per-channel parameter.
     */
    static void vector(String op, String arg, Tensor v, int length, String what, Tensor like) {
        if (v == null) return;
        if (v.dim() != 1 || v.size(0) != length)
            throw fail(op, arg + " must have shape [" + length + "] (" + what + "), got " + shape(v));
        if (v.dtype() != like.dtype() || v.device() != like.device())
            throw fail(op, arg + " is " + v.dtype() + " on " + v.device() + " but the input is " + like.dtype() + " on "
                    + like.device() + "; convert it with to()");
    }

    /**
     * The geometry of 2-D pooling with a square window over x [N, C, H, W], after checking
     * PyTorch's rules: kernel >= 1, stride >= 1, 0 <= padding <= kernel/2 (a window wholly in the
     * padding would have no input), output size >= 1.
     */
    static PoolGeometry pool2d(String op, Tensor x, int kernel, int stride, int padding) {
        atLeast(op, "kernel size", kernel, 1);
        atLeast(op, "stride", stride, 1);
        atLeast(op, "padding", padding, 0);
        if (2L * padding > kernel)
            throw fail(op, "padding " + padding + " is more than half the kernel size " + kernel + "; use padding <= "
                    + kernel / 2);
        int h = x.size(2), w = x.size(3);
        long oh = ConvGeometry.outputSize(h, kernel, stride, padding, 1), ow = ConvGeometry.outputSize(w, kernel, stride, padding, 1);
        if (oh < 1 || ow < 1)
            throw fail(op, "calculated output size " + oh + "x" + ow + " is too small for input " + h + "x" + w + " (kernel "
                    + kernel + ", stride " + stride + ", padding " + padding + "); use a kernel <= "
                    + (Math.min(h, w) + 2L * padding) + " or a larger input");
        if (oh > Integer.MAX_VALUE || ow > Integer.MAX_VALUE)
            throw fail(op, "calculated output size " + oh + "x" + ow + " does not fit an int; use less padding");
        return PoolGeometry.square(x.size(0), x.size(1), h, w, kernel, stride, padding);
    }

    /** labels: an I32 vector with one entry in [0, classes) per row of x [rows, classes] */
    static void labels(String op, Tensor x, Tensor labels) {
        dims(op, "input", x, "[rows, classes]", 2);
        if (labels.dtype() != DType.I32 || labels.dim() != 1 || labels.size(0) != x.size(0))
            throw fail(op, "labels must be an I32 vector of " + x.size(0) + " entries (one per row of " + shape(x)
                    + "), got " + labels.dtype() + shape(labels));
        if (labels.device() != x.device())
            throw fail(op, "labels are on " + labels.device() + " but the input is on " + x.device());
        int[] l = labels.toIntArray();
        for (int i = 0; i < l.length; i++)
            if (l[i] < 0 || l[i] >= x.size(1))
                throw fail(op, "label " + l[i] + " (row " + i + ") is outside the " + x.size(1) + " classes; use 0.."
                        + (x.size(1) - 1));
    }
}
