package pxprune.kernels;

/**
 * Kernels that a module above the engine adds to a device's backend, the way an extension library
 * adds its own operators beside a tensor library's: the module defines an interface {@code T} of its
 * kernels, implements it for each device it supports, and lists each implementation's extension in
 * its {@code META-INF/services/pxprune.kernels.KernelExtension}. {@link Backend#extension} finds the
 * one for the backend's device with {@link java.util.ServiceLoader}, creates it on first use and
 * keeps it for the backend's lifetime ({@link KernelExtensions}).
 *
 * <p>Implementations need a public no-argument constructor and must be cheap to construct: the work
 * (loading native code, a device's kernel modules) belongs in {@link #create}.
 */
public interface KernelExtension<T> {
    /** the interface the kernels implement (what {@link Backend#extension} is asked for) */
    Class<T> type();

    /** the device whose backend these kernels run on */
    Device device();

    /**
     * The kernels for backend (of {@link #device()}), called once per backend. Throws, with the
     * reason, when they cannot be used there (e.g. a device's kernel module is missing).
     */
    T create(Backend backend);
}
