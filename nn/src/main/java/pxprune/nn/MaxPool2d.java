package pxprune.nn;

import pxprune.core.Tensor;

/** Max pooling with a square window; no parameters (it only holds a place in a Sequential). */
public final class MaxPool2d extends Module {
    public final int kernel, stride, padding;

    public MaxPool2d(int kernel, int stride, int padding) {
        if (kernel < 1 || stride < 1 || padding < 0 || 2 * padding > kernel)
            throw new IllegalArgumentException("MaxPool2d(kernel=" + kernel + ", stride=" + stride + ", padding=" + padding
                    + "): need kernel >= 1, stride >= 1 and 0 <= padding <= kernel/2");
        this.kernel = kernel; this.stride = stride; this.padding = padding;
    }

    @Override public Tensor forward(Tensor x, Interpreter it) { return it.maxPool2d(this, x); }
}
