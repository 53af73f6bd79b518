package pxprune.core;

/**
 * Records an operation defined outside core (a module's own kernels, e.g. through a
 * {@link pxprune.kernels.KernelExtension}) in the autograd graph, the way core's ops record
 * theirs: the op computes its output with its kernels, then {@link #record} makes it the output of
 * a node whose backward maps the output's gradient to the inputs' gradients.
 */
public final class CustomOp {
    private CustomOp() {}

    /** an op's backward */
    @FunctionalInterface
    public interface Backward {
        /**
         * the gradients with respect to each input (null where needs[i] is false or there is none),
         * given the output's gradient gy; written with differentiable ops where a second derivative is wanted
         */
        Tensor[] apply(Tensor gy, boolean[] needs);
    }

    /**
     * Makes y, a fresh output of an op named name, computed from inputs (null entries allowed),
     * differentiable: its gradient flows to the inputs through backward. Call it only while
     * {@link GradMode#isEnabled()}; returns y.
     */
    public static Tensor record(String name, Tensor y, Backward backward, Tensor... inputs) {
        if (!y.isLeaf()) throw new IllegalArgumentException(name + ": the output is already recorded; give the op's fresh output");
        Node n = new Node(name, inputs) {
            Tensor[] backward(Tensor gy) {
                boolean[] needs = new boolean[inputs.length];
                for (int i = 0; i < needs.length; i++) needs[i] = needs(i);
                return backward.apply(gy, needs);
            }
        };
        y.gradFn = n;
        y.setRequiresGrad(true);
        return y;
    }
}
