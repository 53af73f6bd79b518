package pxprune.kernels.cuda;

import static org.bytedeco.cuda.global.cudart.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static pxprune.jni.PxNative.U_NEG;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import pxprune.kernels.Backends;
import pxprune.kernels.CudaTest;
import pxprune.kernels.DType;
import pxprune.kernels.Device;

/**
 * Kernel-logic tests of the CUDA emulator itself (src/test/emulator): each adversarial property it
 * has so that the other kernel-logic tests can catch what a GPU would punish, checked so that the
 * test fails without the property. Threads and blocks run in random order between barriers; device
 * memory is out of reach of host code; copies check their direction; streams are queues that run
 * only when something waits for them; frees on a stream are deferred. Skipped on a real GPU.
 */
@CudaTest
class CudaEmulatorKernelLogicTest {
    static CudaBackend gpu;
    static Cuda cuda;

    @BeforeAll static void emulatorOnly() {
        gpu = (CudaBackend) Backends.of(Device.CUDA);
        cuda = gpu.cuda;
        assumeTrue(cuda.deviceName.contains("emulator"), "these check the CUDA emulator; this is " + cuda.deviceName);
    }

    private static void ok(int r, String what) { assertEquals(cudaSuccess, r, what + ": " + cudaGetErrorName(r).getString()); }

    private static float[] host(FloatPointer p, int n) {
        float[] f = new float[n];
        p.get(f);
        return f;
    }

    private static float[] filled(int n, float v) {
        float[] f = new float[n];
        Arrays.fill(f, v);
        return f;
    }

    // ------------------------------------------------------------------ (a) random order

    @Test void threadsRunInARandomOrderBetweenBarriersAndBlocksInARandomOrder() {
        CUmod_st mod = new CUmod_st();
        String ptx = "// the emulator's test kernels\n.version 9.0\n.target sm_90\n.visible .entry pxemu_test_order(\n)\n";
        try (BytePointer text = new BytePointer(ptx)) { Cuda.drv(cuModuleLoadData(mod, text), "cuModuleLoadData"); }
        CUfunc_st f = new CUfunc_st();
        Cuda.drv(cuModuleGetFunction(f, mod, "pxemu_test_order"), "cuModuleGetFunction");
        int blocks = 12, threads = 64;
        Pointer order = gpu.allocate(4L * blocks * 2 * threads), started = gpu.allocate(4L * (blocks + 1));
        try {
            Cuda.Args a = cuda.args().ptr(order).ptr(started);
            Cuda.drv(cuLaunchKernel(f, blocks, 1, 1, threads, 1, 1, 0, cuda.stream(), a.params, null), "launch");
            int[] o = new int[blocks * 2 * threads], b = new int[blocks + 1];
            gpu.download(order, o);
            gpu.download(started, b);
            int[] identity = new int[threads];
            for (int t = 0; t < threads; t++) identity[t] = t;
            int inOrder = 0, sameTwice = 0;
            for (int blk = 0; blk < blocks; blk++) {
                int[][] rounds = new int[2][];
                for (int r = 0; r < 2; r++) {
                    rounds[r] = Arrays.copyOfRange(o, (blk * 2 + r) * threads, (blk * 2 + r + 1) * threads);
                    int[] sorted = rounds[r].clone();
                    Arrays.sort(sorted);
                    assertArrayEquals(identity, sorted, "every thread passes each barrier interval once");
                    if (Arrays.equals(identity, rounds[r])) inOrder++;
                }
                if (Arrays.equals(rounds[0], rounds[1])) sameTwice++;
            }
            assertEquals(0, inOrder, "threads run in a random order, not 0, 1, 2, ...");
            assertEquals(0, sameTwice, "the order is drawn again after each barrier");
            int[] startOrder = Arrays.copyOf(b, blocks), sorted = startOrder.clone();
            Arrays.sort(sorted);
            assertEquals(blocks, b[blocks]);
            assertArrayEquals(Arrays.copyOf(identity, blocks), sorted, "every block runs once");
            assertNotEquals(Arrays.toString(Arrays.copyOf(identity, blocks)), Arrays.toString(startOrder), "blocks run in a random order");
        } finally {
            gpu.free(order);
            gpu.free(started);
        }
    }

    // ------------------------------------------------------------------ (b) device memory out of reach of host code

    @Test void hostCodeReadingDeviceMemoryCrashes() throws IOException, InterruptedException {
        Object[] control = probe("control"), deref = probe("deref");
        assertEquals(0, control[0], "control: reading host memory works\n" + control[1]);
        assertTrue(((String) control[1]).contains("read 1.5"), (String) control[1]);
        String out = (String) deref[1];
        assertNotEquals(0, deref[0], "reading device memory from host code must crash the JVM\n" + out);
        assertTrue(out.contains("allocated at 0x") && !out.contains("read "), out);
        assertTrue(out.contains("SIGSEGV"), out);
    }

    /** runs EmulatorProbe in a child JVM; its exit status and output */
    private static Object[] probe(String mode, String... env) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("pxemu-probe");
        try {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder pb = new ProcessBuilder(java, "-Xss8m", "-XX:-CreateCoredumpOnCrash",
                    "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log"), "-cp", System.getProperty("java.class.path"),
                    EmulatorProbe.class.getName(), mode);
            for (int i = 0; i < env.length; i += 2) pb.environment().put(env[i], env[i + 1]);
            pb.redirectErrorStream(true);
            Path out = dir.resolve(mode + ".txt");
            pb.redirectOutput(out.toFile());
            Process p = pb.start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the probe JVM finishes");
            return new Object[] {p.exitValue(), Files.readString(out, StandardCharsets.UTF_8)};
        } finally {
            for (File f : dir.toFile().listFiles()) f.delete();
            dir.toFile().delete();
        }
    }

    @Test void outOfDeviceMemoryReleasesTheCacheRetriesThenSaysHowMuch() throws IOException, InterruptedException {
        Object[] r = probe("oom", "PXEMU_MEMORY_LIMIT", String.valueOf(12L << 20));
        String out = (String) r[1];
        assertEquals(0, r[0], out);
        assertTrue(out.contains("retried ok: " + (10L << 20) + " bytes allocated in 2 blocks"), out);
        assertTrue(out.contains("error: pxprune: CUDA out of memory on pxprune CUDA emulator (CPU): asked for " + (4L << 20)
                + " bytes") && out.contains((10L << 20) + " bytes in use, " + (10L << 20) + " reserved"), out);
    }

    @Test void aHostPointerPassedToAKernelOrToCublasIsReported() {
        Pointer dev = gpu.allocate(64);
        try (FloatPointer h = new FloatPointer(16)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> gpu.unary(DType.F32, U_NEG, h, 16, 0, 0, dev));
            assertTrue(e.getMessage().contains("pxc_unary_f32") && e.getMessage().contains("ILLEGAL_ADDRESS"), e.getMessage());
            IllegalStateException g = assertThrows(IllegalStateException.class,
                    () -> gpu.gemm(DType.F32, false, false, 4, 4, 4, 1, h, 4, dev, 4, 0, dev, 4));
            assertTrue(g.getMessage().contains("EXECUTION_FAILED"), g.getMessage());
        } finally {
            gpu.free(dev);
        }
    }

    @Test void freedDeviceMemoryIsNotReachable() {
        Pointer raw = new Pointer();
        ok(cudaMalloc(raw, 256), "cudaMalloc");
        try (FloatPointer h = new FloatPointer(64)) {
            ok(cudaMemcpy(h, raw, 256, cudaMemcpyDeviceToHost), "copy from a live allocation");
            ok(cudaFree(raw), "cudaFree");
            assertEquals(cudaErrorInvalidValue, cudaMemcpy(h, raw, 256, cudaMemcpyDeviceToHost), "use after free is reported");
            cudaGetLastError();
        }
    }

    // ------------------------------------------------------------------ (c) copy directions

    @Test void copyKindsMustMatchWhereSourceAndDestinationLive() {
        Pointer dev = gpu.allocate(64);
        try (FloatPointer h = new FloatPointer(16)) {
            ok(cudaMemcpy(dev, h, 64, cudaMemcpyHostToDevice), "a correct upload");
            assertEquals(cudaErrorInvalidMemcpyDirection, cudaMemcpy(h, dev, 64, cudaMemcpyHostToDevice), "upload into host memory");
            assertEquals(cudaErrorInvalidMemcpyDirection, cudaMemcpy(dev, h, 64, cudaMemcpyDeviceToHost), "download from host memory");
            assertEquals(cudaErrorInvalidMemcpyDirection, cudaMemcpy(h, h, 64, cudaMemcpyDeviceToDevice), "host memory as device memory");
            assertEquals(cudaErrorInvalidMemcpyDirection, cudaMemcpyAsync(dev, h, 64, cudaMemcpyDeviceToHost, cuda.stream()));
            cudaGetLastError();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> gpu.copy(h, dev, 64));
            assertTrue(e.getMessage().contains("cudaErrorInvalidMemcpyDirection"), "the Java side names the error: " + e.getMessage());
            cudaGetLastError();
        } finally {
            gpu.free(dev);
        }
    }

    // ------------------------------------------------------------------ (d) streams are queues

    @Test void aMissingSynchronisationGivesWrongResults() {
        CUstream_st s = cuda.stream();
        Pointer dev = gpu.allocate(64);
        Pointer pinned = new Pointer();
        ok(cudaMallocHost(pinned, 64), "cudaMallocHost");
        FloatPointer pin = new FloatPointer(pinned).capacity(16).limit(16);
        try (FloatPointer out = new FloatPointer(16)) {
            out.put(filled(16, 7), 0, 16);
            ok(cudaMemsetAsync(dev, 0, 64, s), "cudaMemsetAsync");
            ok(cudaMemcpyAsync(out, dev, 64, cudaMemcpyDeviceToHost, s), "cudaMemcpyAsync");
            assertArrayEquals(filled(16, 7), host(out, 16), "without a synchronisation the download has not happened");
            ok(cudaStreamSynchronize(s), "cudaStreamSynchronize");
            assertArrayEquals(new float[16], host(out, 16), "after it, it has");

            // an async upload reads its (pinned) source when the stream runs, not when it is queued
            pin.put(filled(16, 1), 0, 16);
            ok(cudaMemcpyAsync(dev, pin, 64, cudaMemcpyHostToDevice, s), "upload");
            pin.put(filled(16, 2), 0, 16);  // overwriting the staging buffer before the stream ran: the wrong data goes
            ok(cudaStreamSynchronize(s), "cudaStreamSynchronize");
            float[] back = new float[16];
            gpu.download(dev, back);
            assertArrayEquals(filled(16, 2), back);
        } finally {
            cudaFreeHost(pinned);
            gpu.free(dev);
        }
    }

    @Test void eventsRunTheWorkBeforeThemAndStreamsCanWaitOnThem() {
        CUstream_st s = cuda.stream(), other = new CUstream_st();
        ok(cudaStreamCreateWithFlags(other, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
        CUevent_st e = new CUevent_st();
        ok(cudaEventCreateWithFlags(e, cudaEventDisableTiming), "cudaEventCreate");
        Pointer dev = gpu.allocate(64);
        try (BytePointer h = new BytePointer(64)) {
            ok(cudaMemsetAsync(dev, 1, 64, s), "memset 1");
            ok(cudaEventRecord(e, s), "cudaEventRecord");
            ok(cudaMemsetAsync(dev, 2, 64, s), "memset 2");
            ok(cudaEventQuery(e), "cudaEventQuery");  // the work before the event is done now, the later memset is not
            ok(cudaMemcpy(h, dev, 64, cudaMemcpyDeviceToHost), "cudaMemcpy");
            assertEquals(1, h.get(63), "only the work before the event has run");
            ok(cudaStreamSynchronize(s), "sync");
            ok(cudaMemcpy(h, dev, 64, cudaMemcpyDeviceToHost), "cudaMemcpy");
            assertEquals(2, h.get(0));

            ok(cudaMemsetAsync(dev, 5, 64, s), "memset 5 on this thread's stream");
            ok(cudaEventRecord(e, s), "record");
            ok(cudaStreamWaitEvent(other, e, 0), "cudaStreamWaitEvent");
            h.fill(0);
            ok(cudaMemcpyAsync(h, dev, 64, cudaMemcpyDeviceToHost, other), "download on the other stream");
            assertEquals(0, h.get(0), "queued, not run");
            ok(cudaStreamSynchronize(other), "sync the other stream");
            assertEquals(5, h.get(0), "the other stream waited for this one's memset");
            ok(cudaEventSynchronize(e), "cudaEventSynchronize");
        } finally {
            gpu.free(dev);
            cudaEventDestroy(e);
            cudaStreamDestroy(other);
        }
    }

    @Test void freeAsyncHappensWhenTheStreamGetsThere() {
        CUstream_st s = cuda.stream();
        Pointer raw = new Pointer();
        ok(cudaMalloc(raw, 256), "cudaMalloc");
        try (FloatPointer h = new FloatPointer(64)) {
            ok(cudaFreeAsync(raw, s), "cudaFreeAsync");
            ok(cudaMemcpy(h, raw, 256, cudaMemcpyDeviceToHost), "still allocated: the stream has not reached the free");
            ok(cudaStreamSynchronize(s), "sync");
            assertEquals(cudaErrorInvalidValue, cudaMemcpy(h, raw, 256, cudaMemcpyDeviceToHost), "freed now");
            cudaGetLastError();
        }
    }
}
