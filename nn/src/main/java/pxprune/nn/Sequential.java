package pxprune.nn;

import pxprune.core.Tensor;

/**
 * Children applied in order, named "0", "1", ... like torch.nn.Sequential (so that their
 * parameters are {@code blocks.3.conv1.weight}, {@code shortcut.0.weight}, ...).
 */
public final class Sequential extends Module {
    public Sequential(Module... modules) { for (Module m : modules) add(m); }

    /** appends m under the next index and returns it */
    public <M extends Module> M add(M m) { return registerModule(String.valueOf(children().size()), m); }

    public int size() { return children().size(); }

    public Module get(int i) {
        Module m = children().get(String.valueOf(i));
        if (m == null) throw new IndexOutOfBoundsException("Sequential of " + size() + " modules has no index " + i);
        return m;
    }

    /**
     * each child on the previous one's output; a {@link ReLU} whose input is an earlier child's
     * output (used by nothing else) is evaluated as {@link Interpreter#reluOfTemporary}
     */
    @Override public Tensor forward(Tensor x, Interpreter it) {
        Tensor y = x;
        for (Module m : children().values()) y = m instanceof ReLU && y != x ? it.reluOfTemporary(y) : m.forward(y, it);
        return y;
    }
}
