package pxprune.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pxprune.jni.PxNative.B_MUL;
import static pxprune.jni.PxNative.U_RELU;

import java.util.Random;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import pxprune.kernels.Backend;
import pxprune.kernels.Backends;
import pxprune.kernels.CpuBackend;
import pxprune.kernels.CudaTest;
import pxprune.kernels.DType;
import pxprune.kernels.Device;
import pxprune.kernels.MemoryStats;

/**
 * Kernel-logic test of the device-memory accounting on whatever CUDA backend loads (a GPU, or the
 * emulator): 1,000 small forward/backward-like op sequences (gemm, unary, binary, gemm, frees) of
 * random sizes bring {@code memoryStats().allocatedBytes} back to its baseline after every pass, and,
 * once warm, are served from the allocator's cache without a single cudaMalloc.
 */
@CudaTest
class DeviceMemoryAccountingKernelLogicTest {
    static final int PASSES = 1000;

    private static float[] random(Random r, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) r.nextGaussian();
        return f;
    }

    /** x [m,k] -> y = x w -> z = relu(y) -> g = z * y -> gw = x^T g, on backend b; returns gw */
    private static float[] pass(Backend b, int m, int k, int n, float[] xs, float[] ws) {
        Pointer x = b.allocateUninitialized(4L * m * k), w = b.allocateUninitialized(4L * k * n);
        Pointer y = b.allocateUninitialized(4L * m * n), z = b.allocateUninitialized(4L * m * n);
        Pointer g = b.allocateUninitialized(4L * m * n), gw = b.allocate(4L * k * n);
        try {
            b.upload(xs, x);
            b.upload(ws, w);
            b.gemm(DType.F32, false, false, m, n, k, 1, x, k, w, n, 0, y, n);
            b.unary(DType.F32, U_RELU, y, (long) m * n, 0, 0, z);
            int[] st = {n, 1};
            b.binary(DType.F32, B_MUL, z, st, y, st, new int[] {m, n}, g);
            b.gemm(DType.F32, true, false, k, n, m, 1, x, k, g, n, 0, gw, n);
            float[] out = new float[k * n];
            b.download(gw, out);
            return out;
        } finally {
            for (Pointer p : new Pointer[] {x, w, y, z, g, gw}) b.free(p);
        }
    }

    @Test void deviceMemoryReturnsToItsBaselineAfter1000Passes() {
        Backend gpu = Backends.of(Device.CUDA);
        Random r = new Random(7);
        pass(gpu, 2, 2, 2, new float[4], new float[4]);  // this thread's stream, cuBLAS handle, pinned buffer
        MemoryStats base = gpu.memoryStats();
        MemoryStats warm = null;
        for (int it = 0; it < PASSES; it++) {
            int m = 1 + r.nextInt(16), k = 1 + r.nextInt(24), n = 1 + r.nextInt(16);
            float[] xs = random(r, m * k), ws = random(r, k * n);
            float[] got = pass(gpu, m, k, n, xs, ws);
            if (it % 100 == 0) {
                float[] want = pass(CpuBackend.INSTANCE, m, k, n, xs, ws);
                double scale = 1e-30;
                for (float v : want) scale = Math.max(scale, Math.abs(v));
                for (int i = 0; i < want.length; i++)
                    assertEquals(want[i], got[i], 1e-5 * scale, "pass " + it + ": gw[" + i + "] against the CPU");
            }
            MemoryStats s = gpu.memoryStats();
            assertEquals(base.allocatedBytes(), s.allocatedBytes(), "allocated bytes after pass " + it + ": " + s);
            assertEquals(base.liveAllocations(), s.liveAllocations(), "live allocations after pass " + it);
            if (it == 99) warm = s;
        }
        MemoryStats end = gpu.memoryStats();
        System.out.println("after " + PASSES + " passes: " + end);
        assertEquals(warm.mallocCalls(), end.mallocCalls(), "warm passes are served from the cache, no cudaMalloc");
        assertEquals(warm.reservedBytes(), end.reservedBytes(), "the cache does not grow");
        assertTrue(end.cacheHits() >= warm.cacheHits() + 6L * (PASSES - 100), "every allocation of a warm pass is a hit: " + end);
        assertTrue(end.peakAllocatedBytes() >= end.allocatedBytes());
    }

    @Test void largeBlocksAreCachedAndReleasedOnDemand() {
        Backend gpu = Backends.of(Device.CUDA);
        gpu.releaseCached();
        MemoryStats base = gpu.memoryStats();
        long bytes = 3L << 20;  // a large block: a segment of its own (4 MiB)
        Pointer p = gpu.allocateUninitialized(bytes);
        MemoryStats one = gpu.memoryStats();
        assertEquals(base.allocatedBytes() + (4L << 20), one.allocatedBytes());
        assertEquals(base.reservedBytes() + (4L << 20), one.reservedBytes());
        gpu.free(p);
        Pointer q = gpu.allocateUninitialized(bytes);
        MemoryStats two = gpu.memoryStats();
        assertEquals(one.mallocCalls(), two.mallocCalls(), "the freed block is reused");
        float[] f = new float[1 << 18];
        for (int i = 0; i < f.length; i++) f[i] = i;
        gpu.upload(f, q);
        Pointer c = gpu.allocateUninitialized(4L * f.length);
        gpu.copy(q, c, 4L * f.length);
        float[] back = new float[f.length];
        gpu.download(c, back);
        assertEquals(f[f.length - 1], back[f.length - 1]);
        gpu.free(q);
        gpu.free(c);
        assertEquals(base.allocatedBytes(), gpu.memoryStats().allocatedBytes());
        long released = gpu.releaseCached();
        assertTrue(released >= 4L << 20, "the 4 MiB segment goes back to the driver: " + released);
        assertTrue(gpu.memoryStats().reservedBytes() <= base.reservedBytes(), gpu.memoryStats().toString());
    }
}
