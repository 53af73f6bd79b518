package pxprune.kernels;

/** Picks the backend for a device. The CUDA backend is looked up only when a CUDA tensor is made. */
public final class Backends {
    private Backends() {}

    public static Backend of(Device d) {
        return switch (d) {
            case CPU -> CpuBackend.INSTANCE;
            case CUDA -> throw new UnsupportedOperationException(
                    "the CUDA backend is not available in this build; use Device.CPU");
        };
    }
}
