package pxprune.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;

/** SGD against PyTorch's update formula (computed here in double), with and without masks. */
class SGDTest {
    static final double LR = 0.1, MOMENTUM = 0.9, WD = 1e-4;
    final SafeTensors.File g = TestSupport.resnet20Golden();

    private Module goldenModel() {
        Module m = ModelRegistry.create("resnet20", 3, 10, 32, 3);
        StateDicts.load(m, g, "weight.");
        return m;
    }

    private void setGoldenGrads(Module m) {
        m.namedParameters().forEach((k, p) -> p.setGrad(MemoryScope.unscoped(() -> g.get("grad." + k).toTensor())));
    }

    /**
     * PyTorch's SGD in double for one parameter: returns the new weights and updates buf in place
     * (started[0] false = first step). scale receives, per element, the magnitudes of the float32
     * operands of the weight update [0] and of the buffer update [1] (the rounding error is a few ulps of them).
     */
    private static double[] reference(double[] p, double[] grad, double[] buf, boolean[] started, boolean nesterov,
                                      double[] mask, double[][] scale) {
        double[] out = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            double gi = grad[i] + WD * p[i];
            double b = !started[0] ? gi : MOMENTUM * buf[i] + gi;
            scale[1][i] = Math.abs(grad[i]) + WD * Math.abs(p[i]) + (started[0] ? MOMENTUM * Math.abs(buf[i]) : 0);
            if (mask != null) b *= mask[i];
            buf[i] = b;
            double step = nesterov ? gi + MOMENTUM * b : b;
            out[i] = p[i] - LR * step;
            scale[0][i] = Math.abs(p[i]) + LR * (nesterov ? scale[1][i] * (1 + MOMENTUM) : scale[1][i]);
            if (mask != null) out[i] *= mask[i];
        }
        started[0] = true;
        return out;
    }

    private void checkSteps(boolean nesterov) {
        try (Module m = goldenModel(); SGD opt = SGD.of(m, LR, MOMENTUM, WD, nesterov)) {
            setGoldenGrads(m);
            Map<String, Tensor> params = m.namedParameters();
            Map<String, double[]> weights = new HashMap<>(), bufs = new HashMap<>();
            Map<String, boolean[]> started = new HashMap<>();
            params.forEach((k, p) -> {
                weights.put(k, p.toDoubleArray());
                bufs.put(k, new double[(int) p.numel()]);
                started.put(k, new boolean[1]);
            });
            for (int step = 0; step < 3; step++) {
                Map<String, double[]> expected = new HashMap<>();
                Map<String, double[][]> scales = new HashMap<>();
                for (Map.Entry<String, Tensor> e : params.entrySet()) {
                    String k = e.getKey();
                    double[][] sc = new double[2][(int) e.getValue().numel()];
                    expected.put(k, reference(weights.get(k), e.getValue().grad().toDoubleArray(), bufs.get(k), started.get(k),
                            nesterov, null, sc));
                    scales.put(k, sc);
                }
                opt.step();
                for (Map.Entry<String, Tensor> e : params.entrySet()) {
                    String k = e.getKey();
                    double[] exp = expected.get(k), act = e.getValue().toDoubleArray();
                    double[] buf = opt.state().get(k).toDoubleArray(), expBuf = bufs.get(k);
                    double[][] sc = scales.get(k);
                    for (int i = 0; i < exp.length; i++) {
                        assertEquals(exp[i], act[i], 3e-7 * sc[0][i] + 1e-30, "step " + step + " " + k + "[" + i + "]");
                        assertEquals(expBuf[i], buf[i], 3e-7 * sc[1][i] + 1e-30, "step " + step + " buffer " + k + "[" + i + "]");
                    }
                    // continue the reference from the float32 state so that rounding does not compound
                    weights.put(k, act);
                    bufs.put(k, buf);
                }
            }
            assertEquals(params.size(), opt.state().size());
        }
    }

    @Test void momentumWeightDecayMatchesPyTorch() { checkSteps(false); }

    @Test void nesterovMatchesPyTorch() { checkSteps(true); }

    @Test void firstStepIsPlainGradientStep() {
        try (Module m = goldenModel(); SGD opt = SGD.of(m, LR, MOMENTUM, 0, false)) {
            setGoldenGrads(m);
            Tensor w = m.namedParameters().get("fc.weight");
            double[] before = w.toDoubleArray(), grad = w.grad().toDoubleArray();
            opt.step();
            double[] after = w.toDoubleArray();
            for (int i = 0; i < before.length; i++) assertEquals(before[i] - LR * grad[i], after[i], 1e-7);
        }
    }

    @Test void maskedWeightsStayExactlyZero() {
        try (Module m = goldenModel(); SGD opt = SGD.of(m, LR, MOMENTUM, WD, false)) {
            Map<String, Tensor> prunable = Prunable.prunableWeights(m);
            Map<String, float[]> masks = new LinkedHashMap<>();
            SplittableRandom r = new SplittableRandom(5);
            try (MemoryScope s = MemoryScope.open()) {
                for (Map.Entry<String, Tensor> e : prunable.entrySet()) {
                    float[] mk = new float[(int) e.getValue().numel()];
                    for (int i = 0; i < mk.length; i++) mk[i] = r.nextDouble() < 0.5 ? 1 : 0;
                    masks.put(e.getKey(), mk);
                    Tensor mt = Tensor.of(mk, e.getValue().shape());
                    Ops.mulInPlace(e.getValue(), mt);
                    opt.setMask(e.getKey(), mt);
                }
            }
            for (int step = 0; step < 5; step++) {
                setGoldenGrads(m); // non-zero gradients at pruned positions too
                opt.step();
            }
            for (Map.Entry<String, Tensor> e : prunable.entrySet()) {
                float[] mk = masks.get(e.getKey()), w = e.getValue().toFloatArray(), b = opt.state().get(e.getKey()).toFloatArray();
                float[] w0 = g.get("weight." + e.getKey()).toFloats();
                int changed = 0, kept = 0;
                for (int i = 0; i < mk.length; i++) {
                    if (mk[i] == 0) {
                        assertTrue(w[i] == 0, e.getKey() + "[" + i + "] pruned weight is " + w[i]);
                        assertTrue(b[i] == 0, e.getKey() + "[" + i + "] pruned momentum is " + b[i]);
                    } else {
                        kept++;
                        if (w[i] != w0[i]) changed++;
                    }
                }
                assertTrue(changed > kept * 0.9, e.getKey() + ": kept weights were updated (" + changed + "/" + kept + ")");
            }
        }
    }

    @Test void stateRoundTripContinuesIdentically() {
        try (Module a = goldenModel(); Module b = goldenModel();
             SGD oa = SGD.of(a, LR, MOMENTUM, WD, true); SGD ob = SGD.of(b, LR, MOMENTUM, WD, true)) {
            setGoldenGrads(a);
            oa.step();
            StateDicts.load(b, a.stateDict());
            ob.loadState(oa.state());
            setGoldenGrads(b);
            ob.setLr(0.05);
            oa.setLr(0.05);
            oa.step();
            ob.step();
            a.namedParameters().forEach((k, p) -> assertEquals(java.util.Arrays.toString(p.toFloatArray()),
                    java.util.Arrays.toString(b.namedParameters().get(k).toFloatArray()), k));
        }
    }

    @Test void rejectsBadArguments() {
        try (Module m = goldenModel()) {
            assertThrows(IllegalArgumentException.class, () -> SGD.of(m, LR, 0, 0, true));
            assertThrows(IllegalArgumentException.class, () -> SGD.of(m, -1, 0.9, 0, false));
            try (SGD opt = SGD.of(m, LR, MOMENTUM, WD, false); MemoryScope s = MemoryScope.open()) {
                assertThrows(IllegalArgumentException.class, () -> opt.setMask("nope.weight", Tensor.ones(pxprune.kernels.DType.F32, 1)));
                assertThrows(IllegalArgumentException.class, () -> opt.setMask("fc.weight", Tensor.ones(pxprune.kernels.DType.F32, 3)));
                assertThrows(IllegalArgumentException.class,
                        () -> opt.setMask("fc.bias", Tensor.full(pxprune.kernels.DType.F32, 0.5, 10)));
            }
        }
    }
}
