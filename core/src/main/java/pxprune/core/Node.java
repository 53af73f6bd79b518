package pxprune.core;

/**
 * One recorded operation: its inputs and how to map the gradient of its output to theirs. The
 * backward is written with differentiable ops, so it records a graph itself when asked to
 * (create-graph mode, used for Hessian-vector products).
 */
abstract class Node {
    final Tensor[] inputs;
    final String name;

    Node(String name, Tensor... inputs) {
        this.name = name;
        this.inputs = inputs;
    }

    /** gradients w.r.t. each input (null where not needed), given the output's gradient gy. */
    abstract Tensor[] backward(Tensor gy);

    /** whether input i needs a gradient */
    boolean needs(int i) { return inputs[i] != null && inputs[i].requiresGrad(); }
}
