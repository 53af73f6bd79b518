package pxprune.core;

/**
 * One recorded operation: its inputs and how to map the gradient of its output to theirs. The
 * backward is written with differentiable ops, so it records a graph itself when asked to
 * (create-graph mode, used for Hessian-vector products).
 */
abstract class Node {
    final Tensor[] inputs;
    final String name;
    /** the inputs' buffer versions when this node was recorded (see {@link #checkVersions}) */
    private final int[] versions;
    /** the tensor this node computed (set when it is recorded); the engine frees it in backwardAndFree */
    Tensor output;

    Node(String name, Tensor... inputs) {
        this.name = name;
        this.inputs = inputs;
        versions = new int[inputs.length];
        for (int i = 0; i < inputs.length; i++) if (inputs[i] != null) versions[i] = inputs[i].version();
    }

    /** whether backward reads the inputs' values (false for sums: their gradient is gy itself) */
    boolean readsInputs() { return true; }

    /** whether backward reads this node's own output: then the output's buffer must not be reused */
    boolean readsOutput() { return false; }

    /**
     * fails when an input whose values backward reads was overwritten after this node used it (a
     * buffer reused by Ops.reluReusing/addReusing although something else still needed it)
     */
    void checkVersions() {
        if (!readsInputs()) return;
        for (int i = 0; i < inputs.length; i++)
            if (inputs[i] != null && inputs[i].version() != versions[i])
                throw new IllegalStateException("backward of " + name + ": its input " + i + " " + java.util.Arrays.toString(inputs[i].shapeRef())
                        + " was overwritten after " + name + " used it (Ops.reluReusing/addReusing, Interpreter.reluOfTemporary/"
                        + "addToTemporary); reuse only a buffer that nothing else uses, or use relu/add");
    }

    /** gradients w.r.t. each input (null where not needed), given the output's gradient gy. */
    abstract Tensor[] backward(Tensor gy);

    /** whether input i needs a gradient */
    boolean needs(int i) { return inputs[i] != null && inputs[i].requiresGrad(); }
}
