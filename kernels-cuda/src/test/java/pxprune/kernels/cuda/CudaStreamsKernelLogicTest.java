package pxprune.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pxprune.jni.PxNative.U_SQUARE;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import pxprune.kernels.Backends;
import pxprune.kernels.CpuBackend;
import pxprune.kernels.CudaTest;
import pxprune.kernels.DType;
import pxprune.kernels.Device;

/**
 * Kernel-logic tests of the per-thread streams on whatever CUDA backend loads (a GPU, or the
 * emulator, whose streams only run when waited for): threads get streams of their own and compute
 * correctly side by side, a thread that ends leaves its stream to the next, and a block freed by a
 * thread other than the one whose stream allocated it is reused only after that thread's work.
 */
@CudaTest
class CudaStreamsKernelLogicTest {
    static CudaBackend gpu;

    @BeforeAll static void device() { gpu = (CudaBackend) Backends.of(Device.CUDA); }

    private static long streamOfANewThread() throws InterruptedException {
        AtomicLong id = new AtomicLong();
        Thread th = new Thread(() -> id.set(gpu.cuda.lane().id));
        th.start();
        th.join();
        return id.get();
    }

    @Test void threadsComputeOnTheirOwnStreams() throws Exception {
        int threads = 4, n = 300;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Long>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                futures.add(pool.submit(() -> {
                    for (int it = 0; it < 10; it++) {
                        float[] x = new float[n];
                        for (int i = 0; i < n; i++) x[i] = seed * 1000 + it * 10 + i % 7;
                        Pointer a = gpu.allocateUninitialized(4L * n), b = gpu.allocateUninitialized(4L * n);
                        gpu.upload(x, a);
                        gpu.unary(DType.F32, U_SQUARE, a, n, 0, 0, b);
                        gpu.copy(b, a, 4L * n);
                        float[] y = new float[n];
                        gpu.download(a, y);
                        for (int i = 0; i < n; i++) assertEquals(x[i] * x[i], y[i], 0, "thread " + seed + " pass " + it);
                        gpu.free(a);
                        gpu.free(b);
                    }
                    return gpu.cuda.lane().id;
                }));
            }
            List<Long> streams = new ArrayList<>();
            for (Future<Long> f : futures) streams.add(f.get());
            assertEquals(threads, streams.stream().distinct().count(), "one stream per thread: " + streams);
            assertTrue(!streams.contains(gpu.cuda.lane().id), "not the test thread's stream either");
        } finally {
            pool.shutdown();
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));  // their lanes are free for adoption before the next test
        }
    }

    @Test void aThreadThatEndsLeavesItsStreamToTheNext() throws InterruptedException {
        long first = streamOfANewThread();
        long second = streamOfANewThread();
        assertEquals(first, second, "the second thread adopts the ended thread's stream");
        assertNotEquals(gpu.cuda.lane().id, first);
    }

    @Test void aBlockFreedFromAnotherStreamWaitsForThatStream() throws Exception {
        CachingAllocator alloc = gpu.cuda.allocator;
        Pointer p = gpu.allocate(4096);  // on this thread's stream
        gpu.upload(new float[1024], p);
        Thread other = new Thread(() -> {
            float[] ones = new float[1024];
            java.util.Arrays.fill(ones, 1);
            gpu.upload(ones, p);  // the other thread's stream uses p ...
            gpu.free(p);          // ... and frees it: reusable on ours only after an event on theirs
        });
        other.start();
        other.join();
        assertEquals(1, alloc.pendingBlocks());
        Pointer q = gpu.allocate(4096);  // polls the event (the other stream has nothing left to do)
        for (int i = 0; i < 1000 && alloc.pendingBlocks() > 0; i++) {  // on a GPU the event may take a moment
            Thread.sleep(1);
            gpu.free(gpu.allocate(512));
        }
        assertEquals(0, alloc.pendingBlocks());
        float[] back = new float[1024];
        gpu.download(q, back);
        assertArrayEquals(new float[1024], back, "allocate zero-fills on this stream");
        gpu.free(q);
        float[] host = new float[4];
        Pointer h = CpuBackend.INSTANCE.allocate(16);
        Pointer d = gpu.allocateUninitialized(16);
        gpu.upload(new float[] {1, 2, 3, 4}, d);
        gpu.downloadTo(d, h, 16);
        CpuBackend.INSTANCE.download(h, host);
        assertArrayEquals(new float[] {1, 2, 3, 4}, host, "uploadFrom/downloadTo through the pinned buffer");
        gpu.free(d);
        CpuBackend.INSTANCE.free(h);
    }
}
