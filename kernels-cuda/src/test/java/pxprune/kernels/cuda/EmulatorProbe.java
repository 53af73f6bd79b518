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
 * prints what it read. On the emulator the device read must crash the JVM (SIGSEGV). With
 * {@code oom} (run with PXEMU_MEMORY_LIMIT=12 MiB) it fills the device to show the allocator's
 * release-and-retry and then its OutOfMemoryError.
 */
final class EmulatorProbe {
    private EmulatorProbe() {}

    public static void main(String[] args) {
        Backend gpu = Backends.of(Device.CUDA);
        if (args.length > 0 && args[0].equals("oom")) {
            outOfMemory(gpu);
            return;
        }
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

    private static void outOfMemory(Backend gpu) {
        long mib = 1L << 20;
        Pointer a = gpu.allocateUninitialized(4 * mib), b = gpu.allocateUninitialized(4 * mib);
        gpu.free(a);  // cached: 8 MiB stay reserved
        Pointer c = gpu.allocateUninitialized(6 * mib);  // 8 + 6 > 12: release the cache, retry
        System.out.println("retried ok: " + gpu.memoryStats());
        try {
            gpu.allocateUninitialized(4 * mib);  // 10 + 4 > 12, nothing cached to release
            System.out.println("no error");
        } catch (OutOfMemoryError e) {
            System.out.println("error: " + e.getMessage());
        }
        gpu.free(b);
        gpu.free(c);
    }
}
