package pxprune.kernels;

import java.util.EnumMap;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Picks the backend for a device. The CPU backend is built in; others come from a
 * {@link BackendProvider} on the class path (the CUDA one: module {@code pxprune-kernels-cuda}),
 * looked up when a tensor is first made on that device. A device that cannot be used makes
 * {@link #of} throw {@link DeviceUnavailableException} with the reason (for CUDA:
 * "no CUDA device/driver found: ..."); the outcome is remembered, so later calls are cheap.
 */
public final class Backends {
    private Backends() {}

    private static final Map<Device, Object> RESOLVED = new EnumMap<>(Device.class); // Backend or failure message
    private static final Map<Device, Throwable> CAUSES = new EnumMap<>(Device.class);

    public static Backend of(Device d) {
        if (d == Device.CPU) return CpuBackend.INSTANCE;
        return provider(d).backend();
    }

    /** whether {@link #of} would succeed for d (creates the backend if it can) */
    public static boolean available(Device d) {
        return unavailableReason(d) == null;
    }

    /** why d cannot be used, or null if it can */
    public static String unavailableReason(Device d) {
        try {
            of(d);
            return null;
        } catch (DeviceUnavailableException e) {
            return e.getMessage();
        }
    }

    /**
     * Lines describing the devices of kind d found on the machine ({@link BackendProvider#describe}),
     * or one line saying why they cannot be listed (no provider on the class path); never throws.
     * Does not create the backend. Not for the CPU (the caller knows its own machine).
     */
    public static java.util.List<String> describe(Device d) {
        if (d == Device.CPU) throw new IllegalArgumentException("Backends.describe: not for the CPU");
        try {
            for (BackendProvider p : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()))
                if (p.device() == d) return p.describe();
        } catch (Throwable e) {
            return java.util.List.of(d.name().toLowerCase() + ": not usable: loading the " + d + " backend provider failed: " + innermost(e));
        }
        return java.util.List.of(d.name().toLowerCase() + ": not usable: the " + d + " backend is not on the class path (add "
                + "dev.pxprune:pxprune-kernels-" + d.name().toLowerCase() + ")");
    }

    /** whether the backend of d has been created (or found unusable) in this process */
    public static synchronized boolean resolved(Device d) {
        return d == Device.CPU || RESOLVED.containsKey(d);
    }

    private static synchronized BackendProvider provider(Device d) {
        Object r = RESOLVED.get(d);
        if (r == null) {
            r = resolve(d);
            RESOLVED.put(d, r);
        }
        if (r instanceof BackendProvider p) return p;
        throw new DeviceUnavailableException((String) r, CAUSES.get(d));
    }

    /** a working provider, or the message saying why there is none */
    private static Object resolve(Device d) {
        String prefix = d == Device.CUDA ? "no CUDA device/driver found: " : "device " + d + " unavailable: ";
        BackendProvider found = null;
        try {
            for (BackendProvider p : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()))
                if (p.device() == d) { found = p; break; }
        } catch (Throwable e) {
            CAUSES.put(d, e);
            return prefix + "loading the " + d + " backend provider failed: " + innermost(e);
        }
        if (found == null)
            return prefix + "the " + d + " backend is not on the class path (add the artifact dev.pxprune:pxprune-kernels-"
                    + d.name().toLowerCase() + " as a dependency); use Device.CPU otherwise";
        try {
            found.backend();
            return found;
        } catch (Throwable e) {
            CAUSES.put(d, e);
            String m = e.getMessage() != null && !e.getMessage().isBlank() ? e.getMessage() : innermost(e);
            return prefix + m;
        }
    }

    /** the most specific message of a failure and its causes */
    private static String innermost(Throwable e) {
        String msg = null;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause())
            if (t.getMessage() != null && !t.getMessage().isBlank()) msg = t.getMessage();
        return msg != null ? msg : e.toString();
    }
}
