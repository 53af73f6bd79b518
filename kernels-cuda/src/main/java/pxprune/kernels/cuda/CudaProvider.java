package pxprune.kernels.cuda;

import pxprune.kernels.Backend;
import pxprune.kernels.BackendProvider;
import pxprune.kernels.Device;

/** Registers the CUDA backend with {@code Backends} (META-INF/services/pxprune.kernels.BackendProvider). */
public final class CudaProvider implements BackendProvider {
    @Override public Device device() { return Device.CUDA; }

    @Override public Backend backend(int index) { return CudaBackend.instance(index); }

    /** the devices the driver sees ({@link CudaDevices#describe}), without creating the backend */
    @Override public java.util.List<String> describe() { return CudaDevices.describe(); }
}
