package pxprune.kernels;

/**
 * Supplies the backend of a device other than the CPU. Implementations live in their own modules
 * (the CUDA one in {@code pxprune-kernels-cuda}) and are found with {@link java.util.ServiceLoader},
 * so this module does not depend on them: {@link Backends#of} uses the first provider on the class
 * path for the device.
 */
public interface BackendProvider {
    /** the device this provider serves */
    Device device();

    /**
     * The device's backend, created on first use. Throws (any exception or linkage error) with the
     * reason when the device cannot be used: no driver, no device, kernels not compiled, ...
     */
    Backend backend();

    /**
     * One line per device of this kind on the machine (name, capabilities, memory), or one line
     * saying why none can be listed, without creating the backend; must not throw. Default: none.
     */
    default java.util.List<String> describe() { return java.util.List.of(); }
}
