package pxprune.kernels;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Picks the backend for a device. The CPU backend is built in; others come from a
 * {@link BackendProvider} on the class path (the CUDA one: module {@code pxprune-kernels-cuda}),
 * looked up when a tensor is first made on that device. A device that cannot be used makes
 * {@link #of} throw {@link DeviceUnavailableException} with the reason (for CUDA:
 * "no CUDA device/driver found: ..."); the outcome is remembered, so later calls are cheap.
 *
 * <p>Tensors name only the kind of their device, so a process uses one device of each kind: the first
 * one looked up ({@link #of(DeviceId)}, for instance with the device of the command line), or, when a
 * tensor is put on a kind before any of its devices was named, {@link DeviceId#defaultOf} the kind.
 * {@link #of(Device)} is the backend of that device; looking up another number of the same kind fails.
 */
public final class Backends {
    private Backends() {}

    /** the device each kind's tensors use in this process, fixed on the first lookup of the kind */
    private static final Map<Device, DeviceId> CHOSEN = new EnumMap<>(Device.class);
    private static final Map<DeviceId, Object> RESOLVED = new HashMap<>(); // BackendProvider or failure message
    private static final Map<DeviceId, Throwable> CAUSES = new HashMap<>();

    /** the backend of the device of kind d this process uses ({@link #chosen}) */
    public static Backend of(Device d) {
        if (d == Device.CPU) return CpuBackend.INSTANCE;
        return of(chosen(d));
    }

    /**
     * The backend of device id, created on first use; the first device of a kind looked up becomes the
     * one its tensors use ({@link #of(Device)}).
     *
     * @throws DeviceUnavailableException with the reason when id cannot be used
     * @throws IllegalStateException when this process already uses another device of id's kind
     */
    public static Backend of(DeviceId id) {
        if (id.kind() == Device.CPU) return CpuBackend.INSTANCE;
        return provider(id).backend(id.index());
    }

    /**
     * The device of kind d this process uses: the first one looked up, else (fixing it now)
     * {@link DeviceId#defaultOf} d.
     *
     * @throws DeviceUnavailableException when the default cannot be read (a bad {@link DeviceId#CUDA_DEFAULT_PROPERTY})
     */
    public static synchronized DeviceId chosen(Device d) {
        DeviceId id = CHOSEN.get(d);
        if (id != null) return id;
        try {
            id = DeviceId.defaultOf(d);
        } catch (IllegalArgumentException e) {
            throw new DeviceUnavailableException(prefix(d) + e.getMessage(), e);
        }
        CHOSEN.put(d, id);
        return id;
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

    /** a working provider for id, or DeviceUnavailableException with the reason there is none */
    private static synchronized BackendProvider provider(DeviceId id) {
        DeviceId chosen = CHOSEN.putIfAbsent(id.kind(), id);
        if (chosen != null && !chosen.equals(id))
            throw new IllegalStateException(id + ": this process has already started (or tried to start) " + id.kind() + " on device "
                    + chosen.index() + "; one process uses one " + id.kind() + " device, so run " + id + " in a process of its own");
        Object r = RESOLVED.get(id);
        if (r == null) {
            r = resolve(id);
            RESOLVED.put(id, r);
        }
        if (r instanceof BackendProvider p) return p;
        throw new DeviceUnavailableException((String) r, CAUSES.get(id));
    }

    private static String prefix(Device d) {
        return d == Device.CUDA ? "no CUDA device/driver found: " : "device " + d + " unavailable: ";
    }

    /** a working provider, or the message saying why there is none */
    private static Object resolve(DeviceId id) {
        Device d = id.kind();
        String prefix = prefix(d);
        BackendProvider found = null;
        try {
            for (BackendProvider p : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()))
                if (p.device() == d) { found = p; break; }
        } catch (Throwable e) {
            CAUSES.put(id, e);
            return prefix + "loading the " + d + " backend provider failed: " + innermost(e);
        }
        if (found == null)
            return prefix + "the " + d + " backend is not on the class path (add the artifact dev.pxprune:pxprune-kernels-"
                    + d.name().toLowerCase() + " as a dependency); use Device.CPU otherwise";
        try {
            found.backend(id.index());
            return found;
        } catch (Throwable e) {
            CAUSES.put(id, e);
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
