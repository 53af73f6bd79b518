package pxprune.kernels.cuda;


import pxprune.kernels.CudaTest;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import pxprune.kernels.Backend;
import pxprune.kernels.Backends;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.DType;
import pxprune.kernels.Device;
import pxprune.kernels.PxKernels;

/**
 * Kernel-logic test of the fused PX kernels on whatever CUDA backend loads (a GPU, or the CPU emulation
 * of the driver in src/test/emulator) against their CPU composition (CpuPxKernels). Skipped without one.
 */
@CudaTest
class CudaPxKernelsKernelLogicTest {
    static Backend gpu;
    static PxKernels cpuPx, gpuPx;

    @BeforeAll static void device() {
        gpu = Backends.of(Device.CUDA);
        cpuPx = Backends.px(Device.CPU);
        gpuPx = Backends.px(Device.CUDA);
    }

    static final ConvGeometry[] CONVS = {
            new ConvGeometry(2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new ConvGeometry(3, 4, 9, 8, 6, 3, 2, 2, 1, 1, 0, 1, 2, 2),
            new ConvGeometry(2, 8, 8, 8, 16, 1, 1, 2, 2, 0, 0, 1, 1, 1),
            new ConvGeometry(2, 4, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4),
            // more than one 64 x 64 tile in every direction, and a reduction depth not a multiple of 16
            new ConvGeometry(3, 3, 12, 11, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            // many output positions: the scores take the block-per-weight kernel
            new ConvGeometry(3, 2, 32, 30, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            // a linear layer: 1x1 convolution of [n, in, 1, 1]
            new ConvGeometry(5, 33, 1, 1, 10, 1, 1, 1, 1, 0, 0, 1, 1, 1)};

    private static int nx(ConvGeometry g) { return g.n() * g.c() * g.h() * g.w(); }
    private static int nw(ConvGeometry g) { return g.k() * g.groupRows(); }
    private static int ny(ConvGeometry g) { return g.n() * g.k() * g.oh() * g.ow(); }

    @Test void activationConv() {
        Random r = new Random(21);
        for (ConvGeometry g : CONVS)
            for (DType mt : new DType[] {DType.F32, DType.F64})
                for (DType gt : new DType[] {null, DType.F32, DType.F64})
                    try (Pair x = Pair.uniform(gpu, DType.F64, nx(g), r, 0, 3); Pair m = Pair.bits(gpu, mt, nw(g), r, 0.7);
                         Pair gate = Pair.bits(gpu, gt == null ? DType.F64 : gt, ny(g), r, 0.5); Pair y = new Pair(gpu, DType.F64, ny(g))) {
                        cpuPx.activationConv(g, x.c, m.c, mt, gt == null ? null : gate.c, gt, y.c);
                        gpuPx.activationConv(g, x.d, m.d, mt, gt == null ? null : gate.d, gt, y.d);
                        y.assertSame("activationConv " + g + " mask " + mt + " gate " + gt);
                    }
    }

    @Test void pathKernels() {
        Random r = new Random(22);
        for (ConvGeometry g : CONVS)
            for (DType t : new DType[] {DType.F32, DType.F64})
                for (boolean masked : new boolean[] {false, true})
                    try (Pair x = Pair.uniform(gpu, t, nx(g), r, 0, 2); Pair theta = Pair.normal(gpu, t, nw(g), r);
                         Pair m = Pair.bits(gpu, t, nw(g), r, 0.6); Pair gy = Pair.uniform(gpu, t, ny(g), r, 0, 2);
                         Pair y = new Pair(gpu, t, ny(g)); Pair gx = Pair.normal(gpu, t, nx(g), r); Pair score = Pair.normal(gpu, t, nw(g), r)) {
                        String what = g + " " + t + (masked ? " masked" : "");
                        cpuPx.pathConvForward(t, g, x.c, theta.c, masked ? m.c : null, y.c);
                        gpuPx.pathConvForward(t, g, x.d, theta.d, masked ? m.d : null, y.d);
                        y.assertSame("pathConvForward " + what);
                        cpuPx.pathConvBackwardData(t, g, gy.c, theta.c, masked ? m.c : null, gx.c);
                        gpuPx.pathConvBackwardData(t, g, gy.d, theta.d, masked ? m.d : null, gx.d);
                        gx.assertSame("pathConvBackwardData " + what);
                        cpuPx.pathConvScore(t, g, x.c, gy.c, theta.c, masked ? m.c : null, score.c);
                        gpuPx.pathConvScore(t, g, x.d, gy.d, theta.d, masked ? m.d : null, score.d);
                        score.assertSame("pathConvScore " + what);
                    }
    }
}
