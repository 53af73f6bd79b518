package pxprune.px;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.core.Ops;
import pxprune.nn.BatchNorm;
import pxprune.nn.Linear;
import pxprune.nn.Conv2d;
import pxprune.nn.Interpreter;
import pxprune.nn.StateDicts;

/**
 * Every scorer against golden/resnet20_seed1.safetensors: the authors' / Synaptic-Flow code
 * (magnitude, snip, grasp, synflow_l2 in float32; synflow in float64) and PX-SPEC section 3 (px,
 * float64). Relative L2 over all prunable weights together.
 *
 * <p>SNIP and GraSP: their float32 golden gradients are not reproducible to 1e-4 by any other
 * float32 (or float64) evaluation unless three ReLU ties are resolved as PyTorch resolved them:
 * with those (snipMatchesGoldenWithPyTorchsTies) SNIP matches to 1.8e-6. The first stage of this ResNet-20 has 1.6 million ReLU units per
 * layer on this batch; a handful of them sit within float32 rounding of 0, and whether each is on
 * depends on summation order. A weight's gradient is a sum of ~10^5 terms of both signs, so one
 * flipped gate moves it by ~1/sqrt(10^5) = 3e-3 relative (measured: a central difference with
 * h = 1e-5 in float64 differs from the exact float64 gradient by 0.4%, and converges to it at
 * h = 1e-7). Stage-1 layers therefore differ from PyTorch's by ~1.4e-3 (our float64 gradients
 * differ from PyTorch's float32 ones by ~4e-3), while every later layer of SNIP agrees to ~3e-6.
 * GraSP's Hessian-gradient product mixes the gradients of all layers, so all its layers carry the
 * ~1e-3 difference. The tolerances below say so.
 */
class GoldenScoresTest {
    static SafeTensors.File golden;
    static Module model;
    static Tensor x;
    static int[] y;
    /** the stem and the first stage: gradients through the 32x32 ReLUs (see the class comment) */
    static final Set<String> STAGE1 = Set.of("conv.weight", "blocks.0.conv1.weight", "blocks.0.conv2.weight",
            "blocks.1.conv1.weight", "blocks.1.conv2.weight", "blocks.2.conv1.weight", "blocks.2.conv2.weight");

    @BeforeAll static void load() throws IOException {
        golden = SafeTensors.read(Path.of(System.getProperty("pxprune.shared", "../shared"), "golden", "resnet20_seed1.safetensors"));
        model = ModelRegistry.create("resnet20", 3, 10, 32, 1);
        StateDicts.load(model, golden, "weight.");
        model.eval();
        x = MemoryScope.unscoped(() -> golden.get("x").toTensor());
        y = golden.get("y").toInts();
    }

    @AfterAll static void free() {
        model.close();
        x.close();
    }

    /** mine and golden, per layer, in registration order */
    static Map<String, double[][]> compare(String method) {
        Masks masks = Masks.ones(model);
        Map<String, double[][]> out = new LinkedHashMap<>();
        try (MemoryScope s = MemoryScope.open()) {
            long t0 = System.nanoTime();
            Map<String, Tensor> scores = ScorerRegistry.create(method).score(model, masks, new ScoringData(x, y, 10, 1));
            System.out.printf("golden %-10s scored in %.2fs%n", method, (System.nanoTime() - t0) / 1e9);
            assertEquals(masks.names(), java.util.List.copyOf(scores.keySet()));
            for (String name : masks.names()) {
                SafeTensors.Entry e = golden.get("score." + method + "." + name);
                assertArrayEquals(e.intShape(), scores.get(name).shape(), name);
                out.put(name, new double[][] {scores.get(name).toDoubleArray(), e.toDoubles()});
            }
        }
        return out;
    }

    static double[][] concat(Map<String, double[][]> m) {
        int n = m.values().stream().mapToInt(v -> v[0].length).sum(), j = 0;
        double[][] c = new double[2][n];
        for (double[][] v : m.values()) {
            System.arraycopy(v[0], 0, c[0], j, v[0].length);
            System.arraycopy(v[1], 0, c[1], j, v[1].length);
            j += v[0].length;
        }
        return c;
    }

    @ParameterizedTest
    @ValueSource(strings = {"magnitude", "synflow", "synflow_l2", "px"})
    void matchesGolden(String method) {
        double[][] c = concat(compare(method));
        boolean byTotal = method.equals("synflow") || method.equals("px");
        if (byTotal) { divide(c[0], sum(c[0])); divide(c[1], sum(c[1])); }
        double err = relL2(c[1], c[0]);
        System.out.printf("golden %-10s relative L2 %.3e%n", method, err);
        assertTrue(err <= 1e-4, method + ": relative L2 " + err);
        if (byTotal) assertTrue(err <= 1e-10, method + " is float64 on both sides: relative L2 " + err);
    }

    @Test void snipMatchesGolden() {
        Map<String, double[][]> m = compare("snip");
        double[][] c = concat(m);
        assertEquals(1.0, sum(c[0]), 1e-12, "SNIP scores are normalised by their total");
        double err = relL2(c[1], c[0]);
        System.out.printf("golden snip       relative L2 %.3e%n", err);
        assertTrue(err <= 1e-3, "snip: relative L2 " + err);
        m.forEach((name, v) -> {
            double[] a = v[0].clone(), b = v[1].clone();
            divide(a, sum(a));
            divide(b, sum(b));
            double e = relL2(b, a);
            System.out.printf("golden snip   %-28s layer-normalised relative L2 %.3e%n", name, e);
            assertTrue(e <= (STAGE1.contains(name) ? 3e-3 : 1e-4), "snip " + name + ": " + e);
        });
    }

    @Test void graspMatchesGolden() {
        double[][] c = concat(compare("grasp"));
        // theta*Hg sums to 1.46e-8 here (temperature 200), so the authors' eps = 1e-10 in the normaliser
        // |sum| + eps shows: the golden scores sum to 0.99320, and so must ours (same loss scale, same eps)
        System.out.printf("golden grasp      sum %.8f, golden %.8f%n", sum(c[0]), sum(c[1]));
        assertEquals(sum(c[1]), sum(c[0]), 1e-5, "GraSP: theta*Hg / (|sum| + 1e-10), with the mean cross-entropy of logits/200");
        double direct = relL2(c[1], c[0]);
        divide(c[0], norm(c[0]));
        divide(c[1], norm(c[1]));
        double err = relL2(c[1], c[0]);
        System.out.printf("golden grasp      relative L2 %.3e (both scaled to unit L2 norm), %.3e as they are%n", err, direct);
        assertTrue(err <= 2e-3, "grasp: relative L2 " + err);
        assertTrue(direct <= 5e-3, "grasp: relative L2 " + direct);
    }

    /**
     * PyTorch's float32 gates where ours differ in the golden batch (found by nn's
     * GoldenResNet20Test, which asserts |z| < 1e-6 there): {ReLU site, unit index, gate}.
     */
    static final int[][] PYTORCH_TIES = {{5, 917372, 0}, {6, 1340553, 1}, {6, 1620586, 1}};

    /**
     * The golden model with those three ReLU ties resolved as PyTorch resolved them: the same
     * modules under the same names, every layer still evaluated by the scorer's own interpreter.
     */
    static final class PyTorchTies extends Module {
        final Module inner;

        PyTorchTies(Module inner) {
            this.inner = inner;
            inner.children().forEach(this::registerModule);
        }

        @Override public Tensor forward(Tensor in, Interpreter it) {
            int[] site = {0};
            return inner.forward(in, new Interpreter() {
                @Override public Tensor conv2d(Conv2d m, Tensor z) { return it.conv2d(m, z); }
                @Override public Tensor linear(Linear m, Tensor z) { return it.linear(m, z); }
                @Override public Tensor batchNorm(BatchNorm m, Tensor z) { return it.batchNorm(m, z); }
                @Override public Tensor relu(Tensor z) {
                    int s = site[0]++;
                    if (java.util.Arrays.stream(PYTORCH_TIES).noneMatch(p -> p[0] == s)) return it.relu(z);
                    float[] v = z.toFloatArray(), gate = new float[v.length];
                    for (int i = 0; i < v.length; i++) gate[i] = v[i] > 0 ? 1 : 0;
                    for (int[] p : PYTORCH_TIES)
                        if (p[0] == s) {
                            assertTrue(Math.abs(v[p[1]]) < 1e-6, "unit " + p[1] + " of ReLU " + s + " is no tie: " + v[p[1]]);
                            gate[p[1]] = p[2];
                        }
                    return Ops.mul(z, Tensor.of(gate, z.shape()));
                }
            });
        }
    }

    /**
     * SNIP within 1e-4 of the golden (by totals) once the three float32 ties fall PyTorch's way
     * (measured 1.8e-6). GraSP stays at ~1e-3 even so: its scores sum to 1.5e-8 out of terms of
     * both signs, and its float32 Hessian-gradient product carries that much rounding noise.
     */
    @Test void snipMatchesGoldenWithPyTorchsTies() {
        String method = "snip";
        Module tied = new PyTorchTies(model);
        Masks masks = Masks.ones(model);
        double[][] c = new double[2][];
        try (MemoryScope s = MemoryScope.open()) {
            Map<String, Tensor> scores = ScorerRegistry.create(method).score(tied, masks, new ScoringData(x, y, 10, 1));
            Map<String, double[][]> m = new LinkedHashMap<>();
            for (String name : masks.names())
                m.put(name, new double[][] {scores.get(name).toDoubleArray(), golden.get("score." + method + "." + name).toDoubles()});
            c = concat(m);
        }
        divide(c[0], sum(c[0]));
        divide(c[1], sum(c[1]));
        double err = relL2(c[1], c[0]);
        System.out.printf("golden %-10s relative L2 %.3e by totals, with PyTorch's three float32 ReLU ties%n", method, err);
        assertTrue(err <= 1e-4, method + ": relative L2 " + err);
    }

    static double sum(double[] a) { double s = 0; for (double v : a) s += v; return s; }

    static double norm(double[] a) { double s = 0; for (double v : a) s += v * v; return Math.sqrt(s); }

    static void divide(double[] a, double c) { for (int i = 0; i < a.length; i++) a[i] /= c; }

    static double relL2(double[] expected, double[] actual) { return pxprune.core.Numerics.relativeL2(expected, actual); }
}
