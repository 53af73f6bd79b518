package pxprune.kernels.cuda;

import pxprune.kernels.CudaTest;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import pxprune.kernels.Backend;
import pxprune.kernels.Backends;
import pxprune.kernels.DType;
import pxprune.kernels.TestData;
import pxprune.kernels.Device;

/**
 * ResNet-20 with the golden weights and batch (testdata/golden/resnet20_seed1.safetensors),
 * written against the Backend and PxKernels interfaces: the logits (eval and train mode) and
 * PX's scores (docs/px-method.md section 3, float64), on the CPU against the golden numbers (so the
 * PxKernels primitives are checked end to end without a GPU) and, where a device exists, CUDA
 * against the CPU (1e-5 relative) and the golden numbers.
 */
class ResNet20GoldenTest {
    static GoldenFile golden;

    @BeforeAll static void load() throws IOException {
        golden = new GoldenFile(TestData.file("golden/resnet20_seed1.safetensors"));
    }

    static double relL2(double[] expected, double[] actual) {
        double num = 0, den = 0;
        for (int i = 0; i < expected.length; i++) {
            num += (expected[i] - actual[i]) * (expected[i] - actual[i]);
            den += expected[i] * expected[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    static void assertRel(String what, double[] expected, double[] actual, double tol) {
        double e = relL2(expected, actual);
        assertTrue(e <= tol, what + ": relative L2 error " + e + " > " + tol);
    }

    /** the first n images of the golden batch */
    static double[] images(int n) { return java.util.Arrays.copyOf(golden.get("x").doubles(), n * 3 * 32 * 32); }

    /** eval and (train ? train : no) logits of the first n images */
    static double[][] logits(Backend b, int n, boolean train) {
        try (ResNet20 net = new ResNet20(b, null, DType.F32, golden)) {
            double[] x = images(n);
            return new double[][] {net.logits(net.input(x, n), false, null), train ? net.logits(net.input(x, n), true, null) : null};
        }
    }

    /** PX's scores of every prunable weight, in float64 on this backend's kernels, with the data = the first n images */
    static Map<String, double[]> pxScores(Device d, int n) {
        try (ResNet20 net = new ResNet20(Backends.of(d), Backends.px(d), DType.F64, golden)) {
            List<Pointer> gates = new ArrayList<>();
            net.logits(net.input(images(n), n), false, gates); // the gate pass
            double[] w = net.activationNetwork(net.input(images(n), n), gates, DType.F32);
            for (double v : w) assertTrue(Double.isFinite(v) && v > 0, "w must be finite and positive: " + v);
            return net.pathScores(w);
        }
    }

    static double sum(double[] a) { double s = 0; for (double v : a) s += v; return s; }

    /**
     * Scores against the golden ones. With a subset of the batch, w (uniform while the output
     * layer is dense, docs/px-method.md section 3) differs from the golden one by a common factor, which is
     * divided out using R = the sum of the output layer's scores.
     */
    static void assertScores(String what, Map<String, double[]> s, boolean fullBatch) {
        double factor = fullBatch ? 1 : sum(golden.get("score.px.fc.weight").doubles()) / sum(s.get("fc.weight"));
        for (String name : ResNet20.prunable()) {
            double[] v = s.get(name).clone();
            for (int i = 0; i < v.length; i++) v[i] *= factor;
            assertRel(what + " PX score of " + name + " vs golden", golden.get("score.px." + name).doubles(), v, 1e-4);
        }
    }

    /** fast (runs in every build): 10 images */
    @Test void cpuLogitsAndPxScoresMatchGolden() {
        double[] l = logits(Backends.of(Device.CPU), 10, false)[0];
        assertRel("CPU eval logits vs golden", java.util.Arrays.copyOf(golden.get("logits_eval").doubles(), 100), l, 1e-4);
        assertScores("CPU (10 images)", pxScores(Device.CPU, 10), false);
    }

    /** the whole batch on the CPU (about 10 s): -Dpxprune.golden.full=true */
    @Test @EnabledIfSystemProperty(named = "pxprune.golden.full", matches = "true") void cpuFullBatchMatchesGolden() {
        double[][] l = logits(Backends.of(Device.CPU), 100, true);
        assertRel("CPU eval logits vs golden", golden.get("logits_eval").doubles(), l[0], 1e-4);
        assertRel("CPU train logits vs golden", golden.get("logits_train").doubles(), l[1], 1e-4);
        assertScores("CPU", pxScores(Device.CPU, 100), true);
    }

    /** the whole batch, or the first -Dpxprune.golden.images=N images (the emulator uses few) */
    @Test @CudaTest void cudaMatchesCpuAndGolden() {
        int n = Integer.getInteger("pxprune.golden.images", 100);
        boolean full = n >= 100;
        // train mode (batch statistics: cuDNN's batch norm by default) against the CPU with any n, against golden with all 100
        CudaBackend cuda = (CudaBackend) Backends.of(Device.CUDA);
        Cudnn dnn = cuda.cuda.convCudnn();
        long dnnCalls = dnn == null ? 0 : dnn.searches() + dnn.hits();
        double[][] cpu = logits(Backends.of(Device.CPU), n, true), gpu = logits(cuda, n, true);
        System.out.println("ResNet-20 golden test on " + cuda.describe());
        if (dnn != null) assertTrue(dnn.searches() + dnn.hits() - dnnCalls >= 2 * 21, "the 21 convolutions went to cuDNN, twice");
        for (int mode = 0; mode < 2; mode++) {
            String m = mode == 0 ? "eval" : "train";
            Pair.assertClose("CUDA vs CPU " + m + " logits", cpu[mode], gpu[mode], 1e-5);
            if (mode == 0 || full)
                assertRel("CUDA " + m + " logits vs golden", java.util.Arrays.copyOf(golden.get("logits_" + m).doubles(), n * 10),
                        gpu[mode], 1e-4);
        }
        Map<String, double[]> sc = pxScores(Device.CPU, n), sg = pxScores(Device.CUDA, n);
        for (String name : ResNet20.prunable())
            Pair.assertClose("CUDA vs CPU PX score of " + name, sc.get(name), sg.get(name), 1e-8);
        assertScores("CUDA", sg, full);
    }
}
