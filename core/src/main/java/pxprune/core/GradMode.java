package pxprune.core;

/** Whether ops record the autograd graph on this thread (like torch.no_grad / enable_grad). */
public final class GradMode implements AutoCloseable {
    private static final ThreadLocal<Boolean> ENABLED = ThreadLocal.withInitial(() -> Boolean.TRUE);
    private final boolean previous;

    private GradMode(boolean enabled) {
        previous = ENABLED.get();
        ENABLED.set(enabled);
    }

    public static boolean isEnabled() { return ENABLED.get(); }

    /** try (var g = GradMode.noGrad()) { ... } */
    public static GradMode noGrad() { return new GradMode(false); }

    public static GradMode set(boolean enabled) { return new GradMode(enabled); }

    @Override public void close() { ENABLED.set(previous); }
}
