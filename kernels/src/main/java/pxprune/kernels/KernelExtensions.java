package pxprune.kernels;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The registry behind {@link Backend#extension}: the {@link KernelExtension}s on the class path
 * (found once, with {@link ServiceLoader}), and per backend the kernels made from them, created on
 * first use and kept. A failure to create them is remembered and thrown again on every later call.
 */
public final class KernelExtensions {
    private KernelExtensions() {}

    private static List<KernelExtension<?>> found;
    private static final List<String> broken = new ArrayList<>();
    private static final Map<Backend, Map<Class<?>, Object>> MADE = new IdentityHashMap<>();

    /** the kernels of type for backend; throws IllegalStateException when none is registered for its device, or creating it failed */
    public static synchronized <T> T of(Backend backend, Class<T> type) {
        Map<Class<?>, Object> made = MADE.computeIfAbsent(backend, b -> new HashMap<>());
        Object k = made.get(type);
        if (k == null) {
            try {
                k = create(backend, type);
            } catch (RuntimeException | LinkageError | java.util.ServiceConfigurationError e) {
                k = e instanceof IllegalStateException ise ? ise
                        : new IllegalStateException(type.getSimpleName() + " on " + backend.device() + ": " + e, e);
            }
            made.put(type, k);
        }
        if (k instanceof IllegalStateException e)
            throw new IllegalStateException(e.getMessage(), e);
        return type.cast(k);
    }

    private static <T> T create(Backend backend, Class<T> type) {
        for (KernelExtension<?> x : extensions())
            if (x.type() == type && x.device() == backend.device()) {
                Object k = x.create(backend);
                if (!type.isInstance(k))
                    throw new IllegalStateException("kernel extension " + x.getClass().getName() + " made a " + k.getClass().getName()
                            + ", not a " + type.getName());
                return type.cast(k);
            }
        throw new IllegalStateException("no " + type.getSimpleName() + " kernels for " + backend.device() + " on the class path; add the module"
                + " that registers them (META-INF/services/" + KernelExtension.class.getName() + ")"
                + (broken.isEmpty() ? "" : "; entries that could not be loaded: " + String.join("; ", broken)));
    }

    /** the registered extensions; an entry that cannot be loaded is skipped (and named when nothing fits) */
    private static List<KernelExtension<?>> extensions() {
        if (found == null) {
            List<KernelExtension<?>> l = new ArrayList<>();
            var it = ServiceLoader.load(KernelExtension.class, KernelExtensions.class.getClassLoader()).iterator();
            while (true) {
                try {
                    if (!it.hasNext()) break;
                    l.add(it.next());
                } catch (java.util.ServiceConfigurationError e) {
                    broken.add(String.valueOf(e.getMessage()));
                }
            }
            found = List.copyOf(l);
        }
        return found;
    }
}
