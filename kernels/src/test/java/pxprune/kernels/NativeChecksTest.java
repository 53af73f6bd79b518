package pxprune.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pxprune.jni.PxNative.pxk_debug_bounds;
import static pxprune.jni.PxNative.pxk_log_softmax;

import org.bytedeco.javacpp.Pointer;
import pxprune.jni.PxNative;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The native kernels' own checks (pxkernels.h), called straight through the backend with the
 * arguments core's Ops would refuse: each must throw instead of reading or writing out of bounds.
 * The buffers are sized for the valid neighbour of each call, so a missing check would corrupt
 * the heap (and likely kill the test JVM) rather than pass quietly.
 */
class NativeChecksTest {
    private static final CpuBackend B = CpuBackend.INSTANCE;
    private final java.util.List<Pointer> buffers = new java.util.ArrayList<>();

    private Pointer doubles(double... v) {
        Pointer p = B.allocate(8L * Math.max(1, v.length));
        if (v.length > 0) B.upload(v, p);
        buffers.add(p);
        return p;
    }

    private Pointer ints(int... v) {
        Pointer p = B.allocate(4L * Math.max(1, v.length));
        if (v.length > 0) B.upload(v, p);
        buffers.add(p);
        return p;
    }

    @AfterEach void free() { buffers.forEach(B::free); }

    private static void rejects(String expected, Executable call) {
        RuntimeException e = assertThrows(RuntimeException.class, call);
        assertTrue(e.getMessage() != null && e.getMessage().contains(expected),
                () -> "message \"" + e.getMessage() + "\" should contain \"" + expected + "\"");
    }

    @Test void theTestBuildTurnsTheDebugChecksOn() {
        assertEquals("true", System.getProperty(CpuBackend.DEBUG_BOUNDS), "surefire should pass -Dpxprune.debugBounds=true");
        assertEquals(1, pxk_debug_bounds());
    }

    // PoolGeometry refuses these geometries before a backend sees them (poolGeometryRefuses...);
    // the kernels' own checks are called here through the JNI with the raw PxPool ints
    // {n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow}

    @Test void maxPoolRefusesAWindowWhollyInThePadding() {
        // 2x2 input, kernel 2, padding 2: output 5x5 whose first window [-2, -1] lies wholly in the padding
        Pointer x = doubles(new double[4]), y = doubles(new double[9]), idx = ints(new int[9]);
        rejects("wholly in the padding", () -> PxNative.pxk_maxpool_fwd(1, x, new int[] {1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 5, 5}, y, idx));
        rejects("stride", () -> PxNative.pxk_maxpool_fwd(1, x, new int[] {1, 1, 2, 2, 2, 2, 0, 1, 0, 0, 1, 1}, y, idx));
    }

    @Test void poolingRefusesAnOutputLargerThanTheInputAllows() {
        // 3x3 input, kernel 5, stride 2: PyTorch's output size is floor(-2/2)+1 = 0, not (-2/2)+1 = 0 or (3-5)/2+1 = 1
        Pointer x = doubles(new double[9]), y = doubles(new double[1]);
        int[] g = {1, 1, 3, 3, 5, 5, 2, 2, 0, 0, 1, 1};
        rejects("output size 1 is not in 1..0", () -> PxNative.pxk_avgpool_fwd(1, x, g, y));
        rejects("output size 1 is not in 1..0", () -> PxNative.pxk_avgpool_bwd(1, y, g, x));
        int[] padded = {1, 1, 3, 3, 2, 2, 1, 1, 1, 1, 4, 4};
        rejects("takes no padding", () -> PxNative.pxk_avgpool_fwd(1, x, padded, y));
    }

    @Test void poolGeometryRefusesWhatTheKernelsCannotRun() {
        rejects("wholly in the padding", () -> new PoolGeometry(1, 1, 2, 2, 2, 2, 1, 1, 2, 2));
        rejects("wholly in the padding", () -> PoolGeometry.square(1, 1, 3, 3, 1, 1, 1));
        rejects("stride 0 must be >= 1", () -> new PoolGeometry(1, 1, 2, 2, 2, 2, 0, 1, 0, 0));
        rejects("output size 0x0 is too small", () -> PoolGeometry.square(1, 1, 3, 3, 5, 2, 0));
        PoolGeometry g = PoolGeometry.square(2, 3, 9, 8, 3, 2, 1);
        assertArrayEquals(new int[] {2, 3, 9, 8, 3, 3, 2, 2, 1, 1, 5, 4}, g.toArray());
        assertEquals(6, g.planes());
        assertEquals(72, g.inPlane());
        assertEquals(20, g.outPlane());
    }

    @Test void scatterAndGatherRefuseAnIndexOutsideThePlane() {
        Pointer gy = doubles(1, 2), gx = doubles(new double[4]);
        rejects("pooling index -1", () -> B.poolScatter(DType.F64, 1, 4, 2, gy, ints(0, -1), gx));
        rejects("pooling index 4", () -> B.poolGather(DType.F64, 1, 4, 2, gx, ints(4, 0), gy));
        B.poolScatter(DType.F64, 1, 4, 2, gy, ints(3, 3), gx);
        double[] out = new double[4];
        B.download(gx, out);
        assertArrayEquals(new double[] {0, 0, 0, 3}, out);
    }

    @Test void pickAndPlaceRefuseALabelOutsideTheClasses() {
        Pointer x = doubles(1, 2, 3, 4, 5, 6), out = doubles(0, 0);
        rejects("label 3 in row 1", () -> B.pick(DType.F64, 2, 3, x, ints(0, 3), out));
        rejects("label -1 in row 0", () -> B.place(DType.F64, 2, 3, out, ints(-1, 0), x));
        B.pick(DType.F64, 2, 3, x, ints(2, 0), out);
        double[] v = new double[2];
        B.download(out, v);
        assertArrayEquals(new double[] {3, 4}, v);
    }

    @Test void im2colRefusesAGeometryThatDoesNotFit() {
        Pointer x = doubles(new double[9]), col = doubles(new double[25]);
        rejects("output size 2 is not in 1..1",
                () -> pxprune.jni.PxNative.pxk_im2col(1, x, 1, 1, 3, 3, 3, 3, 1, 1, 0, 0, 1, 1, 2, 2, col));
        rejects("dilation", () -> pxprune.jni.PxNative.pxk_im2col(1, x, 1, 1, 3, 3, 3, 3, 1, 1, 0, 0, 0, 1, 1, 1, col));
    }

    @Test void logSoftmaxRefusesRowsWithoutClassesAndUnknownTypes() {
        Pointer x = doubles(1), y = doubles(0);
        rejects("need at least 1", () -> pxk_log_softmax(1, x, 1, 0, y));
        rejects("element type code 2", () -> pxk_log_softmax(2, x, 1, 1, y));
    }
}
