package pxprune.px.methods.px.fused;

import pxprune.kernels.cuda.Pair;


import pxprune.kernels.CudaTest;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import pxprune.kernels.Backend;
import pxprune.kernels.Backends;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.DType;
import pxprune.kernels.Device;

/**
 * The fused PX kernels on CUDA against their CPU composition (CpuPxKernels), on odd shapes (stride 2,
 * padding, groups, dilation, 1x1, several and ragged 64x64 tiles, a linear layer): float and byte gates,
 * the gate pass's fused ReLU, and the path kernels with float64 signals and float32 weights. Skipped
 * without the CUDA backend; against the emulator these are kernel-logic tests.
 */
@CudaTest
class CudaPxKernelsKernelLogicTest {
    static Backend gpu;
    static PxKernels cpuPx, gpuPx;

    @BeforeAll static void device() {
        gpu = Backends.of(Device.CUDA);
        cpuPx = Backends.of(Device.CPU).extension(PxKernels.class);
        gpuPx = Backends.of(Device.CUDA).extension(PxKernels.class);
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

    /** a byte buffer on the CPU and on the device with the same random 0/1 contents */
    static final class Bytes implements AutoCloseable {
        final int n;
        final Pointer c, d;

        Bytes(int n, Random r, double p) {
            this.n = n;
            c = Pair.CPU.allocate(Math.max(1, n));
            d = gpu.allocate(Math.max(1, n));
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) b[i] = (byte) (r.nextDouble() < p ? 1 : 0);
            new BytePointer(c).put(b);
            gpu.uploadFrom(c, d, n);
        }

        byte[] cpu() { byte[] b = new byte[n]; new BytePointer(c).get(b); return b; }

        byte[] device() {
            Pointer h = Pair.CPU.allocate(Math.max(1, n));
            try {
                gpu.downloadTo(d, h, n);
                byte[] b = new byte[n];
                new BytePointer(h).get(b);
                return b;
            } finally { Pair.CPU.free(h); }
        }

        double[] asDoubles() {
            byte[] b = cpu();
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = b[i];
            return v;
        }

        @Override public void close() { Pair.CPU.free(c); gpu.free(d); }
    }

    @Test void activationConvByteGate() {
        Random r = new Random(23);
        for (ConvGeometry g : CONVS)
            for (DType mt : new DType[] {DType.F32, DType.F64})
                try (Pair x = Pair.uniform(gpu, DType.F64, nx(g), r, 0, 3); Pair m = Pair.bits(gpu, mt, nw(g), r, 0.7);
                     Bytes gate = new Bytes(ny(g), r, 0.5); Pair y = new Pair(gpu, DType.F64, ny(g));
                     Pair asFloat = Pair.of(gpu, DType.F64, gate.asDoubles()); Pair ref = new Pair(gpu, DType.F64, ny(g))) {
                    cpuPx.activationConvByteGate(g, x.c, m.c, mt, gate.c, y.c);
                    gpuPx.activationConvByteGate(g, x.d, m.d, mt, gate.d, y.d);
                    y.assertSame("activationConvByteGate " + g + " mask " + mt);
                    cpuPx.activationConv(g, x.c, m.c, mt, asFloat.c, DType.F64, ref.c); // bytes mean what float gates mean
                    Pair.assertClose("byte gate vs float64 gate " + g, ref.cpu(), y.cpu(), 0);
                }
    }

    @Test void reluGateAndGateMul() {
        Random r = new Random(24);
        for (int n : new int[] {1, 257, 3001})
            for (DType t : new DType[] {DType.F32, DType.F64})
                try (Pair z = Pair.normal(gpu, t, n, r); Pair y = new Pair(gpu, t, n); Bytes gate = new Bytes(n, r, 0.5)) {
                    cpuPx.reluGate(t, n, z.c, y.c, gate.c);
                    gpuPx.reluGate(t, n, z.d, y.d, gate.d);
                    y.assertSame("reluGate output, n " + n + " " + t, 0);
                    byte[] gc = gate.cpu();
                    assertArrayEquals(gc, gate.device(), "reluGate gate, n " + n + " " + t);
                    double[] zv = z.cpu();
                    for (int i = 0; i < n; i++) if (gc[i] != (zv[i] > 0 ? 1 : 0)) throw new AssertionError("gate " + i + " of z = " + zv[i]);
                    try (Pair a = Pair.normal(gpu, DType.F64, n, r); Pair out = new Pair(gpu, DType.F64, n)) {
                        cpuPx.gateMul(n, a.c, gate.c, out.c);
                        gpuPx.gateMul(n, a.d, gate.d, out.d);
                        out.assertSame("gateMul, n " + n, 0);
                        double[] av = a.cpu(), ov = out.cpu();
                        for (int i = 0; i < n; i++) if (ov[i] != (gc[i] == 1 ? av[i] : 0)) throw new AssertionError("gateMul " + i);
                    }
                }
    }

    /** float64 signals with a float32 model's theta and mask, against the same kernels on the weights converted to float64 */
    @Test void pathKernelsWithFloat32Weights() {
        Random r = new Random(25);
        DType t = DType.F64, wt = DType.F32;
        for (ConvGeometry g : CONVS)
            for (boolean masked : new boolean[] {false, true})
                try (Pair x = Pair.uniform(gpu, t, nx(g), r, 0, 2); Pair theta = Pair.normal(gpu, wt, nw(g), r);
                     Pair m = Pair.bits(gpu, wt, nw(g), r, 0.6); Pair gy = Pair.uniform(gpu, t, ny(g), r, 0, 2);
                     Pair theta64 = Pair.of(gpu, t, theta.cpu()); Pair m64 = Pair.of(gpu, t, m.cpu());
                     Pair y = new Pair(gpu, t, ny(g)); Pair gx = new Pair(gpu, t, nx(g)); Pair score = new Pair(gpu, t, nw(g));
                     Pair y64 = new Pair(gpu, t, ny(g)); Pair gx64 = new Pair(gpu, t, nx(g)); Pair score64 = new Pair(gpu, t, nw(g))) {
                    String what = g + " F64/F32" + (masked ? " masked" : "");
                    cpuPx.pathConvForward(t, wt, g, x.c, theta.c, masked ? m.c : null, y.c);
                    gpuPx.pathConvForward(t, wt, g, x.d, theta.d, masked ? m.d : null, y.d);
                    y.assertSame("pathConvForward " + what);
                    cpuPx.pathConvBackwardData(t, wt, g, gy.c, theta.c, masked ? m.c : null, gx.c);
                    gpuPx.pathConvBackwardData(t, wt, g, gy.d, theta.d, masked ? m.d : null, gx.d);
                    gx.assertSame("pathConvBackwardData " + what);
                    cpuPx.pathConvScore(t, wt, g, x.c, gy.c, theta.c, masked ? m.c : null, score.c);
                    gpuPx.pathConvScore(t, wt, g, x.d, gy.d, theta.d, masked ? m.d : null, score.d);
                    score.assertSame("pathConvScore " + what);
                    // float32 weights widen exactly: the same numbers as the float64 kernels on the widened weights
                    gpuPx.pathConvForward(t, g, x.d, theta64.d, masked ? m64.d : null, y64.d);
                    gpuPx.pathConvBackwardData(t, g, gy.d, theta64.d, masked ? m64.d : null, gx64.d);
                    gpuPx.pathConvScore(t, g, x.d, gy.d, theta64.d, masked ? m64.d : null, score64.d);
                    Pair.assertClose("F64/F32 vs F64 forward " + what, y64.device(), y.device(), 0);
                    Pair.assertClose("F64/F32 vs F64 backward data " + what, gx64.device(), gx.device(), 0);
                    Pair.assertClose("F64/F32 vs F64 score " + what, score64.device(), score.device(), 0);
                }
    }
}
