package pxprune.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reverse-mode engine: walks the recorded graph from a root in reverse topological order,
 * calling each node's backward with the gradient of its output. Gradients that are no longer
 * needed are freed as soon as they are consumed (unless a graph of the backward is being built).
 */
public final class Autograd {
    private Autograd() {}

    /** Accumulates d(root)/d(leaf) into leaf.grad() for every leaf that requires a gradient. */
    static void backward(Tensor root, Tensor seed) { run(root, seed, false, (refs, leaf, g) -> accumulate(leaf, g), null); }

    /**
     * {@link #backward} that frees each recorded result as soon as the backward has no more use for
     * it: a node's output once that node's backward has run (every consumer of it ran before, in
     * reverse topological order), except root and keep. See {@link Tensor#backwardAndFree}.
     */
    static void backwardAndFree(Tensor root, Tensor... keep) {
        Map<Tensor, Boolean> kept = new IdentityHashMap<>();
        kept.put(root, true);
        for (Tensor k : keep) kept.put(k, true);
        run(root, null, false, (refs, leaf, g) -> accumulate(leaf, g), kept);
    }

    /** leaf.grad += g at once (so a leaf's gradient is held once, not also until the end of the walk) */
    private static void accumulate(Tensor leaf, Tensor g) {
        try (GradMode gm = GradMode.noGrad()) {
            if (leaf.grad() == null) leaf.setGrad(MemoryScope.unscoped(() -> Ops.copy(g)));
            else Ops.addInPlace(leaf.grad(), g);
        }
    }

    /**
     * Gradients of root w.r.t. the given leaves (zeros where root does not depend on one). With
     * createGraph the results are themselves differentiable (for Hessian-vector products).
     */
    public static Tensor[] grad(Tensor root, List<Tensor> leaves, boolean createGraph) {
        for (Tensor l : leaves)
            if (!l.isLeaf() || !l.requiresGrad())
                throw new IllegalArgumentException("grad() takes leaves that require gradients");
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        run(root, null, createGraph, (refs, leaf, g) -> refs.put(grads, leaf, g), null);
        Tensor[] out = new Tensor[leaves.size()];
        for (int i = 0; i < out.length; i++) {
            Tensor g = grads.get(leaves.get(i));
            out[i] = g != null ? g : Tensor.zerosLike(leaves.get(i));
        }
        return out;
    }

    /**
     * what becomes of a gradient that reaches a leaf: accumulated into it at once, or collected in a
     * map whose slots the walk's reference count (refs) knows about
     */
    private interface LeafSink { void accept(Refs refs, Tensor leaf, Tensor g); }

    /**
     * the reverse walk: each node's backward with its output's gradient; gradients reaching leaves
     * go to sink; with keep non-null, each node's output that keep does not hold is freed once the
     * node's backward ran
     */
    private static void run(Tensor root, Tensor seed, boolean createGraph, LeafSink sink, Map<Tensor, Boolean> keep) {
        if (!root.requiresGrad())
            throw new IllegalStateException("backward(): the tensor does not require a gradient (no parameter with "
                    + "requiresGrad, or it was computed under GradMode.noGrad())");
        if (seed == null) {
            if (root.numel() != 1)
                throw new IllegalArgumentException("backward() without a seed needs a scalar, shape is "
                        + Arrays.toString(root.shapeRef()));
            seed = Tensor.full(root.dtype(), 1, root.device(), root.shapeRef());
        } else checkSeed(root, seed);
        Refs refs = new Refs(createGraph, seed);
        if (root.isLeaf()) {
            sink.accept(refs, root, seed);
            return;
        }
        List<Node> order = topoOrder(root.gradFn);
        Map<Node, Tensor> nodeGrads = new IdentityHashMap<>();
        refs.put(nodeGrads, root.gradFn, seed);
        try (GradMode gm = GradMode.set(createGraph)) {
            for (Node n : order) {
                Tensor gy = nodeGrads.remove(n);
                if (gy == null) continue;
                n.checkVersions();
                Tensor[] gs = n.backward(gy);
                for (int i = 0; i < n.inputs.length; i++) {
                    Tensor in = n.inputs[i], g = gs[i];
                    if (g == null || in == null || !in.requiresGrad()) continue;
                    if (!Arrays.equals(g.shapeRef(), in.shapeRef()))
                        throw new IllegalStateException("internal: " + n.name + " gave a gradient of shape "
                                + Arrays.toString(g.shapeRef()) + " for an input of shape " + Arrays.toString(in.shapeRef()));
                    if (in.gradFn != null) refs.put(nodeGrads, in.gradFn, g);
                    else sink.accept(refs, in, g);
                }
                refs.release(gy);
                for (Tensor g : gs) if (g != null) refs.dropIfUnused(g);
                if (keep != null && n.output != null && !keep.containsKey(n.output)) n.output.close();
            }
        }
    }

    /** the seed is d(loss)/d(root): it must have root's shape, dtype and device */
    private static void checkSeed(Tensor root, Tensor seed) {
        if (!Arrays.equals(seed.shapeRef(), root.shapeRef()))
            throw new IllegalArgumentException("backward(seed): seed has shape " + Arrays.toString(seed.shapeRef())
                    + " but the output has shape " + Arrays.toString(root.shapeRef()) + "; they must be equal");
        if (seed.dtype() != root.dtype() || seed.device() != root.device())
            throw new IllegalArgumentException("backward(seed): seed is " + seed.dtype() + " on " + seed.device()
                    + " but the output is " + root.dtype() + " on " + root.device() + "; convert the seed with to()");
    }

    /** counts how many map slots hold each gradient so that consumed ones can be freed at once */
    private static final class Refs {
        private final IdentityHashMap<Tensor, Integer> count = new IdentityHashMap<>();
        private final boolean keepAll;
        private final Tensor seed;

        Refs(boolean keepAll, Tensor seed) { this.keepAll = keepAll; this.seed = seed; }

        <K> void put(Map<K, Tensor> slots, K key, Tensor g) {
            Tensor old = slots.get(key);
            if (old == null) {
                slots.put(key, g);
                count.merge(g, 1, Integer::sum);
                return;
            }
            Tensor sum = Ops.add(old, g);
            slots.put(key, sum);
            count.merge(sum, 1, Integer::sum);
            release(old);
        }

        void release(Tensor g) {
            Integer c = count.get(g);
            if (c == null) return;
            if (c > 1) count.put(g, c - 1);
            else { count.remove(g); free(g); }
        }

        void dropIfUnused(Tensor g) { if (!count.containsKey(g)) free(g); }

        private void free(Tensor g) { if (!keepAll && g != seed) g.close(); }
    }

    private static List<Node> topoOrder(Node root) {
        // iterative DFS post-order, then reversed: every node comes before the nodes it feeds from
        List<Node> post = new ArrayList<>();
        IdentityHashMap<Node, Boolean> seen = new IdentityHashMap<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        seen.put(root, true);
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            Node n = (Node) top[0];
            int i = (Integer) top[1];
            if (i < n.inputs.length) {
                top[1] = i + 1;
                Tensor in = n.inputs[i];
                if (in != null && in.gradFn != null && in.requiresGrad() && seen.put(in.gradFn, true) == null)
                    stack.push(new Object[] {in.gradFn, 0});
            } else {
                stack.pop();
                post.add(n);
            }
        }
        java.util.Collections.reverse(post);
        return post;
    }
}
