package pxprune.kernels.cuda;

import pxprune.kernels.Backend;
import pxprune.kernels.Backends;
import pxprune.kernels.Device;
import pxprune.kernels.DeviceId;
import pxprune.kernels.DeviceUnavailableException;

/**
 * Run in a child JVM by DeviceSelectionKernelLogicTest: parses its argument as a device
 * ({@link DeviceId#parse}), looks up its backend and prints the CUDA device number the backend
 * started on ("uses device N"), or why it could not ("unavailable: ..."), then the value of the
 * system property {@code pxprune.cuda.device} afterwards.
 */
final class DeviceSelectionProbe {
    private DeviceSelectionProbe() {}

    public static void main(String[] args) {
        DeviceId id = DeviceId.parse(args[0]);
        try {
            Backend b = Backends.of(id);
            if (b != Backends.of(Device.CUDA)) throw new AssertionError("the CUDA tensors' backend is not the one looked up");
            System.out.println("uses device " + ((CudaBackend) b).cuda.device);
        } catch (DeviceUnavailableException e) {
            System.out.println("unavailable: " + e.getMessage());
        }
        System.out.println("property afterwards: " + System.getProperty(DeviceId.CUDA_DEFAULT_PROPERTY));
        System.exit(0); // the CUDA runtime's threads must not keep the JVM
    }
}
