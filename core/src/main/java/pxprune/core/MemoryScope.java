package pxprune.core;

import java.util.ArrayList;
import java.util.function.Supplier;

/**
 * An arena for tensors: every tensor created while a scope is open on this thread belongs to the
 * innermost one and is freed when that scope closes (try-with-resources). A tensor to be
 * returned from the scope is handed to the enclosing one with {@link #keep}; tensors created
 * outside any scope (parameters, buffers, gradients) are owned by their holder, who closes them.
 */
public final class MemoryScope implements AutoCloseable {
    private static final ThreadLocal<MemoryScope> CURRENT = new ThreadLocal<>();
    private final MemoryScope parent;
    private final Thread thread = Thread.currentThread();
    private final ArrayList<Tensor> owned = new ArrayList<>();
    private boolean closed;

    private MemoryScope(MemoryScope parent) { this.parent = parent; }

    public static MemoryScope open() {
        MemoryScope s = new MemoryScope(CURRENT.get());
        CURRENT.set(s);
        return s;
    }

    static void register(Tensor t) {
        MemoryScope s = CURRENT.get();
        t.scope = s;
        if (s != null) s.owned.add(t);
    }

    /** Moves t (and returns it) to the enclosing scope, or makes it unowned if there is none. */
    public static <T extends Tensor> T keep(T t) {
        MemoryScope s = t.scope;
        if (s == null) return t;
        t.scope = s.parent;
        if (s.parent != null) s.parent.owned.add(t);
        return t;
    }

    /** Runs body with no scope active: what it creates is owned by the caller. */
    public static <R> R unscoped(Supplier<R> body) {
        MemoryScope s = CURRENT.get();
        CURRENT.remove();
        try { return body.get(); } finally { if (s != null) CURRENT.set(s); }
    }

    @Override public void close() {
        if (closed) return;
        if (Thread.currentThread() != thread || CURRENT.get() != this)
            throw new IllegalStateException("MemoryScopes must be closed on their thread, innermost first");
        closed = true;
        for (Tensor t : owned) if (t.scope == this) t.close();
        owned.clear();
        if (parent != null) CURRENT.set(parent); else CURRENT.remove();
    }
}
