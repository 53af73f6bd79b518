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
    static void backward(Tensor root, Tensor seed) {
        Map<Tensor, Tensor> grads = run(root, seed, false);
        try (GradMode g = GradMode.noGrad()) {
            for (Map.Entry<Tensor, Tensor> e : grads.entrySet()) {
                Tensor leaf = e.getKey(), gr = e.getValue();
                if (leaf.grad() == null) leaf.setGrad(MemoryScope.unscoped(() -> Ops.copy(gr)));
                else Ops.addInPlace(leaf.grad(), gr);
            }
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
        Map<Tensor, Tensor> grads = run(root, null, createGraph);
        Tensor[] out = new Tensor[leaves.size()];
        for (int i = 0; i < out.length; i++) {
            Tensor g = grads.get(leaves.get(i));
            out[i] = g != null ? g : Tensor.zerosLike(leaves.get(i));
        }
        return out;
    }

    private static Map<Tensor, Tensor> run(Tensor root, Tensor seed, boolean createGraph) {
        if (!root.requiresGrad())
            throw new IllegalStateException("backward(): the tensor does not require a gradient (no parameter with "
                    + "requiresGrad, or it was computed under GradMode.noGrad())");
        if (seed == null) {
            if (root.numel() != 1)
                throw new IllegalArgumentException("backward() without a seed needs a scalar, shape is "
                        + Arrays.toString(root.shapeRef()));
            seed = Tensor.full(root.dtype(), 1, root.device(), root.shapeRef());
        } else checkSeed(root, seed);
        Map<Tensor, Tensor> leafGrads = new IdentityHashMap<>();
        if (root.isLeaf()) {
            leafGrads.put(root, seed);
            return leafGrads;
        }
        List<Node> order = topoOrder(root.gradFn);
        Map<Node, Tensor> nodeGrads = new IdentityHashMap<>();
        Refs refs = new Refs(createGraph, seed);
        refs.put(nodeGrads, root.gradFn, seed);
        try (GradMode gm = GradMode.set(createGraph)) {
            for (Node n : order) {
                Tensor gy = nodeGrads.remove(n);
                if (gy == null) continue;
                Tensor[] gs = n.backward(gy);
                for (int i = 0; i < n.inputs.length; i++) {
                    Tensor in = n.inputs[i], g = gs[i];
                    if (g == null || in == null || !in.requiresGrad()) continue;
                    if (!Arrays.equals(g.shapeRef(), in.shapeRef()))
                        throw new IllegalStateException("internal: " + n.name + " gave a gradient of shape "
                                + Arrays.toString(g.shapeRef()) + " for an input of shape " + Arrays.toString(in.shapeRef()));
                    if (in.gradFn != null) refs.put(nodeGrads, in.gradFn, g);
                    else refs.put(leafGrads, in, g);
                }
                refs.release(gy);
                for (Tensor g : gs) if (g != null) refs.dropIfUnused(g);
            }
        }
        return leafGrads;
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
