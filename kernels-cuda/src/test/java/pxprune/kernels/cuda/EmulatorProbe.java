package pxprune.kernels.cuda;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import pxprune.kernels.Backend;
import pxprune.kernels.Backends;
import pxprune.kernels.CpuBackend;
import pxprune.kernels.Device;

/**
 * Run in a child JVM by CudaEmulatorKernelLogicTest: reads the first float of a device buffer
 * ({@code deref}) or of a host buffer with the same contents ({@code control}) from host code, and
 * prints what it read. On the emulator the device read must crash the JVM (SIGSEGV).
 */
final class EmulatorProbe {
    private EmulatorProbe() {}

    public static void main(String[] args) {
        Backend gpu = Backends.of(Device.CUDA);
        Pointer d = gpu.allocate(64);
        gpu.upload(new float[] {1.5f, 2, 3, 4}, d);
        Pointer h = CpuBackend.INSTANCE.allocate(64);
        gpu.downloadTo(d, h, 16);
        Pointer target = args.length > 0 && args[0].equals("deref") ? d : h;
        System.out.println("allocated at 0x" + Long.toHexString(Cuda.address(d)));
        System.out.flush();
        float v = new FloatPointer(target).get(0);
        System.out.println("read " + v);
        System.out.flush();
    }
}
