package pxprune.kernels.cuda;

import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static org.bytedeco.cuda.global.cudart.cuDeviceGet;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetAttribute;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetCount;
import static org.bytedeco.cuda.global.cudart.cuDeviceGetName;
import static org.bytedeco.cuda.global.cudart.cuDeviceTotalMem;
import static org.bytedeco.cuda.global.cudart.cuDriverGetVersion;
import static org.bytedeco.cuda.global.cudart.cuInit;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * The CUDA devices the NVIDIA driver sees, queried through the driver API without creating the
 * backend (no context, no PTX): what {@code pxprune list} shows. Loads the same libraries as the
 * backend ({@link CudaLibraries}: {@code pxprune.cuda.libs} / {@code PXPRUNE_CUDA_LIBS} first), so a
 * machine without a driver gets the same reason the backend would give.
 */
public final class CudaDevices {
    private CudaDevices() {}

    /** one device: its number, name, compute capability, memory in bytes and the driver's CUDA version (e.g. 13000) */
    public record Info(int index, String name, int ccMajor, int ccMinor, long totalMemory, int driverVersion) {
        /** e.g. "cuda:0  NVIDIA H200, compute capability 9.0, 139.8 GiB, driver CUDA 13.0" */
        public String describe() {
            return String.format(Locale.ROOT, "cuda:%d  %s, compute capability %d.%d, %.1f GiB, driver CUDA %s", index, name, ccMajor,
                    ccMinor, totalMemory / (double) (1L << 30), Cuda.version(driverVersion));
        }
    }

    /**
     * Every device the driver reports, in driver order (an empty list when the driver sees none).
     *
     * @throws IllegalStateException with the reason when the CUDA libraries cannot be loaded or the
     *                               driver cannot be initialised (no driver, a library missing)
     */
    public static List<Info> list() {
        loadLibraries();
        Cuda.drv(cuInit(0), "cuInit");
        int[] v = new int[1];
        Cuda.drv(cuDriverGetVersion(v), "cuDriverGetVersion");
        int driver = v[0];
        Cuda.drv(cuDeviceGetCount(v), "cuDeviceGetCount");
        int count = v[0];
        List<Info> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Cuda.drv(cuDeviceGet(v, i), "cuDeviceGet(" + i + ")");
            int dev = v[0];
            Cuda.drv(cuDeviceGetAttribute(v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev), "cuDeviceGetAttribute");
            int major = v[0];
            Cuda.drv(cuDeviceGetAttribute(v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev), "cuDeviceGetAttribute");
            int minor = v[0];
            byte[] name = new byte[256];
            Cuda.drv(cuDeviceGetName(name, name.length, dev), "cuDeviceGetName");
            long mem;
            try (SizeTPointer bytes = new SizeTPointer(1)) {
                Cuda.drv(cuDeviceTotalMem(bytes, dev), "cuDeviceTotalMem");
                mem = bytes.get(0);
            }
            out.add(new Info(i, cString(name), major, minor, mem, driver));
        }
        return out;
    }

    /** the first failure to load the libraries (JavaCPP's later attempts report a less telling error) */
    private static IllegalStateException loadFailure;

    private static synchronized void loadLibraries() {
        if (loadFailure != null) throw loadFailure;
        try {
            CudaLibraries.preload();
            Loader.load(cudart.class);
        } catch (LinkageError | IllegalStateException e) {
            loadFailure = new IllegalStateException(e instanceof LinkageError ? Cuda.libraryMessage(e) : e.getMessage(), e);
            throw loadFailure;
        }
    }

    /**
     * Lines for a device listing: one per device, or one saying why none can be listed (never
     * throws for a missing driver or library).
     */
    public static List<String> describe() {
        try {
            List<Info> devices = list();
            if (devices.isEmpty()) return List.of("cuda: none (the NVIDIA driver sees no device)");
            List<String> out = new ArrayList<>();
            for (Info d : devices) out.add(d.describe());
            return out;
        } catch (RuntimeException e) {
            return List.of("cuda: not usable: " + e.getMessage());
        }
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}
