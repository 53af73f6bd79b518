package pxprune.px;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.kernels.CudaTest;
import pxprune.kernels.Device;
import pxprune.nn.Module;
import pxprune.px.methods.GraspScorer;
import pxprune.px.methods.MagnitudeScorer;
import pxprune.px.methods.RandomScorer;
import pxprune.px.methods.SnipScorer;
import pxprune.px.methods.synflow.SynFlowScorer;

/**
 * The generic scorers (SNIP, GraSP, SynFlow, SynFlow-L2, magnitude, random) and the connectivity check
 * with the model on the CUDA backend equal their CPU results (to 1e-5 where float arithmetic
 * differs, exactly where it does not), and the pruner runs there. Kernel-logic tests: without a GPU
 * they run against the CPU emulation of the CUDA driver.
 */
@CudaTest
class CudaScoringTest {
    static Module model(Device d) {
        Module m = new TinyModels.Cnn(21, true, true);
        TinyModels.perturbBatchNorms(m, 22);
        return m.to(d);
    }

    static Map<String, double[]> scores(Scorer s, Device d, Masks masks) {
        try (Module m = model(d); MemoryScope sc = MemoryScope.open()) {
            Tensor x = TinyModels.randomInputs(5, 4, 1, 4, 4).to(d);
            ScoringData data = new ScoringData(x, new int[] {0, 1, 1, 0}, 2, 9);
            Map<String, double[]> out = new java.util.LinkedHashMap<>();
            s.score(m, masks, data).forEach((k, v) -> out.put(k, v.toDoubleArray()));
            return out;
        }
    }

    @Test
    void scoresOnCudaEqualCpu() {
        Masks masks;
        try (Module probe = model(Device.CPU)) { masks = TinyModels.randomMasks(probe, 0.7, 3); }
        // GraSP in float64: its Hessian-gradient product (a second backward through batch statistics) cancels, so
        // float32 rounding in another order moves its scores by about 1e-4 of the largest; float64 checks the logic
        for (Scorer s : new Scorer[] {new SnipScorer(), new GraspScorer(pxprune.kernels.DType.F64), new SynFlowScorer(false),
                new SynFlowScorer(true), new MagnitudeScorer(), new RandomScorer()}) {
            Map<String, double[]> cpu = scores(s, Device.CPU, masks), cuda = scores(s, Device.CUDA, masks);
            assertEquals(cpu.keySet(), cuda.keySet(), s.name());
            double tol = s instanceof GraspScorer ? 1e-9 : 1e-5;
            for (String k : cpu.keySet()) {
                double[] a = cpu.get(k), b = cuda.get(k);
                double scale = 1e-30, diff = 0;
                for (int i = 0; i < a.length; i++) { scale = Math.max(scale, Math.abs(a[i])); diff = Math.max(diff, Math.abs(a[i] - b[i])); }
                assertTrue(diff <= tol * scale, s.name() + " " + k + ": max difference " + diff + " of " + scale);
                if (s instanceof MagnitudeScorer || s instanceof RandomScorer) assertArrayEquals(a, b, s.name() + " " + k);
            }
        }
    }

    @Test
    void prunerAndConnectivityRunOnCuda() {
        long[] kept = new long[2];
        for (Device d : new Device[] {Device.CPU, Device.CUDA}) {
            try (Module m = model(d); MemoryScope sc = MemoryScope.open()) {
                Tensor x = TinyModels.randomInputs(5, 4, 1, 4, 4).to(d);
                ScoringData data = new ScoringData(x, new int[] {0, 1, 1, 0}, 2, 9);
                Pruner.Result r = Pruner.run(m, new SynFlowScorer(false), data, new Pruner.Config(0.5, 2), null, null);
                assertEquals(d, m.device());
                kept[d.ordinal()] = r.masks().kept();
                assertEquals(2, Connectivity.reachableOutputs(m, r.masks(), data.sampleShape())[1]);
                for (PrunableLayer l : PrunableLayer.of(m)) {
                    float[] w = l.weight().toFloatArray(), mk = r.masks().values(l.name());
                    for (int i = 0; i < w.length; i++) if (mk[i] == 0) assertEquals(0f, Math.abs(w[i]), l.name() + "[" + i + "]");
                }
            }
        }
        assertEquals(kept[0], kept[1]);
    }
}
