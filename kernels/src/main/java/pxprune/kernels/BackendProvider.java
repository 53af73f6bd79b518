package pxprune.kernels;

/**
 * Supplies the backend of a device other than the CPU. Implementations live in their own modules
 * (the CUDA one in {@code pxprune-kernels-cuda}) and are found with {@link java.util.ServiceLoader},
 * so this module does not depend on them: {@link Backends#of} uses the first provider on the class
 * path for the device's kind, and passes it the device's number.
 */
public interface BackendProvider {
    /** the device this provider serves */
    Device device();

    /**
     * The backend of device number index (0 = the first) of this kind, created on first use. Throws
     * (any exception or linkage error) with the reason when the device cannot be used: no driver, no
     * such device, kernels not compiled, ...
     */
    Backend backend(int index);

    /**
     * One line per device of this kind on the machine (name, capabilities, memory), or one line
     * saying why none can be listed, without creating the backend; must not throw. Default: none.
     */
    default java.util.List<String> describe() { return java.util.List.of(); }
}
