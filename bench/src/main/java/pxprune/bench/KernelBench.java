package pxprune.bench;

import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.Pointer;
import org.openjdk.jmh.annotations.*;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.Backend;
import pxprune.kernels.CpuBackend;
import pxprune.kernels.DType;

/**
 * Kernel roofline: square sgemm/dgemm through the Backend (OpenBLAS), and conv2d forward and
 * forward+backward at every convolution shape of ResNet-20 for a batch of 100 CIFAR images, on each
 * convolution path ({@code conv}: im2col + sgemm, the direct kernels, and "auto", what CpuBackend
 * dispatches; see {@link CpuBackend#CONV}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxBytes=0", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class KernelBench {
    @State(Scope.Thread)
    public static class Gemm {
        @Param({"256", "512", "1024", "2048"}) public int n;
        @Param({"F32", "F64"}) public DType dtype;
        final Backend b = CpuBackend.INSTANCE;
        Pointer a, bb, c;

        @Setup public void setup() {
            long bytes = (long) n * n * dtype.size;
            a = b.allocate(bytes); bb = b.allocate(bytes); c = b.allocate(bytes);
            b.unary(dtype, pxprune.kernels.OpCodes.U_AFFINE, a, (long) n * n, 0, 0.5, a);
            b.unary(dtype, pxprune.kernels.OpCodes.U_AFFINE, bb, (long) n * n, 0, 0.25, bb);
        }

        @TearDown public void tearDown() { b.free(a); b.free(bb); b.free(c); }
    }

    /** one n x n x n product: 2n^3 flops */
    @Benchmark public void gemm(Gemm s) { s.b.gemm(s.dtype, false, false, s.n, s.n, s.n, 1, s.a, s.n, s.bb, s.n, 0, s.c, s.n); }

    @State(Scope.Thread)
    public static class Conv {
        /**
         * the convolution path, set as {@link CpuBackend#CONV} before the backend starts (JMH runs
         * every parameter combination in a fresh JVM)
         */
        @Param({"auto", "im2col", "direct"}) public String conv;
        /** ResNet-20's convolutions: in-out-size-stride[-kernel], kernel 3 unless given (padding kernel/2) */
        @Param({"3-16-32-1", "16-16-32-1", "16-32-32-2", "16-32-32-2-1", "32-32-16-1", "32-64-16-2", "32-64-16-2-1", "64-64-8-1"})
        public String layer;
        public int batch = 100;
        Tensor x, w, seed;
        int stride, padding;

        @Setup public void setup() {
            System.setProperty(CpuBackend.CONV, conv);
            String[] p = layer.split("-");
            int cin = Integer.parseInt(p[0]), cout = Integer.parseInt(p[1]), hw = Integer.parseInt(p[2]);
            stride = Integer.parseInt(p[3]);
            int k = p.length > 4 ? Integer.parseInt(p[4]) : 3;
            padding = k / 2;
            int o = (hw + 2 * padding - k) / stride + 1;
            x = Tensor.full(DType.F32, 0.5, batch, cin, hw, hw).requiresGrad(true);
            w = Tensor.full(DType.F32, 0.01, cout, cin, k, k).requiresGrad(true);
            seed = Tensor.full(DType.F32, 1, batch, cout, o, o);
        }

        @TearDown public void tearDown() { x.close(); w.close(); seed.close(); }
    }

    @Benchmark public void convForward(Conv s) {
        try (MemoryScope m = MemoryScope.open(); GradMode g = GradMode.noGrad()) { Ops.conv2d(s.x, s.w, null, s.stride, s.padding, 1); }
    }

    @Benchmark public void convForwardBackward(Conv s) {
        try (MemoryScope m = MemoryScope.open()) {
            Ops.conv2d(s.x, s.w, null, s.stride, s.padding, 1).backward(s.seed);
            s.x.zeroGrad();
            s.w.zeroGrad();
        }
    }
}
