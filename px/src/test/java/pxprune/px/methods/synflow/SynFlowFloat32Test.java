package pxprune.px.methods.synflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;
import pxprune.kernels.DType;
import pxprune.kernels.TestData;
import pxprune.nn.Conv2d;
import pxprune.nn.Init;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.StateDicts;
import pxprune.px.Masks;
import pxprune.px.Pruner;
import pxprune.px.ScoringData;
import pxprune.px.TinyModels;
import pxprune.px.methods.ScorerRegistry;
import pxprune.px.methods.px.PxFloat32Test;
import pxprune.px.methods.px.PxScorerTest;

/**
 * SynFlow and SynFlow-L2 with the linearised network in float32 scaled by powers of two
 * ({@link ScaledSynFlow}, docs/px-method.md#float32-synflow) against the float64 oracle (the same scorer
 * in float64): relative L2 at most 1e-6 over all scores and in every layer, on the golden
 * ResNet-20, ResNet-56 and VGG-19-BN (dense, random masks, the masks of a SynFlow round), on chains
 * where plain float32 overflows (dense weights) or underflows (sparse ones), and with biases and
 * batch-norm shifts of both signs.
 */
class SynFlowFloat32Test {
    static final double TOL = 1e-6;

    /**
     * relative L2 of actual against expected: over all layers ([0]) and the worst layer ([1]) among
     * those whose largest expected score is at least {@code floor} times the largest of all
     */
    static double[] relL2(Map<String, Tensor> expected, Map<String, Tensor> actual, double floor) {
        double num = 0, den = 0, worst = 0, top = 0;
        for (Tensor t : expected.values()) for (double v : t.toDoubleArray()) top = Math.max(top, v);
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            double[] a = e.getValue().toDoubleArray(), b = actual.get(e.getKey()).toDoubleArray();
            assertEquals(a.length, b.length, e.getKey());
            assertEquals(DType.F64, actual.get(e.getKey()).dtype(), "scores are float64 tensors");
            double n = 0, d = 0, max = 0;
            for (int i = 0; i < a.length; i++) {
                max = Math.max(max, a[i]);
                assertTrue(Double.isFinite(b[i]) && b[i] >= 0, e.getKey() + "[" + i + "] = " + b[i]);
                n += (a[i] - b[i]) * (a[i] - b[i]);
                d += a[i] * a[i];
            }
            num += n;
            den += d;
            if (max >= floor * top) worst = Math.max(worst, d == 0 ? (n == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(n / d));
        }
        return new double[] {Math.sqrt(num / den), worst};
    }

    /** float32 against float64 for synflow and synflow_l2, asserted to TOL overall and per layer; the worst */
    static double compare(String what, Module model, Masks masks) {
        return compare(what, model, masks, new ScoringData(Tensor.zeros(DType.F32, 1, 3, 32, 32), new int[1], 10, 1));
    }

    static double compare(String what, Module model, Masks masks, ScoringData data) { return compare(what, model, masks, data, 0); }

    /** layers whose scores are all below floor times the largest score are left out of the per-layer check */
    static double compare(String what, Module model, Masks masks, ScoringData data, double floor) {
        double worst = 0;
        for (boolean l2 : new boolean[] {false, true}) {
            try (MemoryScope s = MemoryScope.open()) {
                long t0 = System.nanoTime();
                Map<String, Tensor> f64 = new SynFlowScorer(l2, DType.F64).score(model, masks, data);
                long t1 = System.nanoTime();
                Map<String, Tensor> f32 = new SynFlowScorer(l2, DType.F32).score(model, masks, data);
                long t2 = System.nanoTime();
                double[] err = relL2(f64, f32, floor);
                String name = l2 ? "synflow_l2" : "synflow";
                System.out.printf("synflow float32 %-42s %-10s relative L2 %.3e, worst layer %.3e (float64 %.3fs, float32 %.3fs)%n",
                        what, name, err[0], err[1], (t1 - t0) / 1e9, (t2 - t1) / 1e9);
                assertTrue(err[0] <= TOL, what + " " + name + ": relative L2 " + err[0]);
                assertTrue(err[1] <= TOL, what + " " + name + ": worst layer's relative L2 " + err[1]);
                worst = Math.max(worst, Math.max(err[0], err[1]));
            }
        }
        return worst;
    }

    @Test void goldenResNet20() throws IOException {
        SafeTensors.File golden = SafeTensors.read(TestData.file("golden/resnet20_seed1.safetensors"));
        try (Module model = ModelRegistry.create("resnet20", 3, 10, 32, 1); MemoryScope s = MemoryScope.open()) {
            StateDicts.load(model, golden, "weight.");
            model.eval();
            compare("golden resnet20, dense", model, Masks.ones(model));
            compare("golden resnet20, random density 0.3", model, TinyModels.randomMasks(model, 0.3, 5));
            compare("golden resnet20, random density 0.02", model, TinyModels.randomMasks(model, 0.02, 6));
        }
    }

    /** dense, random density 0.3 and the masks 20 SynFlow rounds to density 0.05 leave; perturbed batch norms (shifts of both signs) */
    @ParameterizedTest
    @ValueSource(strings = {"resnet56", "vgg19_bn"})
    void cifarModels(String name) {
        try (Module model = ModelRegistry.create(name, 3, 10, 32, 3); MemoryScope s = MemoryScope.open()) {
            TinyModels.perturbBatchNorms(model, 4);
            model.eval();
            compare(name + ", dense", model, Masks.ones(model));
            compare(name + ", random density 0.3", model, TinyModels.randomMasks(model, 0.3, 7));
            ScoringData data = new ScoringData(Tensor.zeros(DType.F32, 1, 3, 32, 32), new int[1], 10, 1);
            Masks rounds = Pruner.run(model, new SynFlowScorer(false, DType.F64), data, new Pruner.Config(0.05, 20), null, null).masks();
            compare(name + ", 20 synflow rounds to density 0.05", model, rounds);
        }
    }

    /** the other kinds of operation: concatenation, resampling, a dense output (DeepLabV3), the ImageNet-style ResNet */
    @ParameterizedTest
    @ValueSource(strings = {"deeplabv3_resnet20", "resnet18"})
    void otherModels(String name) {
        try (Module model = ModelRegistry.create(name, 3, 4, 32, 8); MemoryScope s = MemoryScope.open()) {
            TinyModels.perturbBatchNorms(model, 9);
            model.eval();
            compare(name + ", random density 0.3", model, TinyModels.randomMasks(model, 0.3, 11));
        }
    }

    static ScoringData chainData() { return new ScoringData(Tensor.zeros(DType.F32, 1, 2, 8, 8), new int[1], 3, 1); }

    /** R of the float64 linearised network, the oracle's own output */
    static double float64R(Module model, Masks masks, ScoringData data) {
        Map<String, Tensor> sc;
        try (MemoryScope s = MemoryScope.open()) {
            sc = new SynFlowScorer(false, DType.F64).score(model, masks, data);
            // SynFlow's scores of a bias-free chain sum to R in every layer (conservation of flow)
            return PxScorerTest.layerSums(sc)[0];
        }
    }

    /** dense weights: every layer multiplies the values by about 7, and plain float32 would overflow; float64 does not */
    @Test void deepChainWherePlainFloat32Overflows() {
        try (Module model = new PxFloat32Test.Chain(60, 32, 11).eval(); MemoryScope s = MemoryScope.open()) {
            Masks masks = Masks.ones(model);
            ScoringData data = chainData();
            double r = float64R(model, masks, data);
            System.out.printf("synflow float32 dense chain: R = %.3e%n", r);
            assertTrue(r > Float.MAX_VALUE && Double.isFinite(r), "the chain's R should leave float32's range: " + r);
            compare("chain 60 x 32 channels, dense", model, masks, data);
        }
    }

    /** sparse weights: the values shrink by a factor per layer, and plain float32 would underflow to 0 */
    @Test void sparseChainWherePlainFloat32Underflows() {
        try (Module model = new PxFloat32Test.Chain(80, 32, 12).eval(); MemoryScope s = MemoryScope.open()) {
            Masks masks = TinyModels.randomMasks(model, 0.015, 3);
            ScoringData data = chainData();
            double r = float64R(model, masks, data);
            System.out.printf("synflow float32 sparse chain: R = %.3e%n", r);
            assertTrue(r > 0 && r < Float.MIN_VALUE, "the chain's R should fall below float32's range: " + r);
            compare("chain 80 x 32 channels, random density 0.015", model, masks, data);
        }
    }

    /**
     * biases at every layer: their share is expressed at each operand's scale. At density 0.05 the
     * sparse weights shrink the flow while the biases feed it, so the first layers' scores are
     * 1e-40 of the last ones': scores that far below R fall into float32's subnormals and lose
     * relative precision (docs/px-method.md#float32-synflow), so the per-layer check covers the layers
     * whose scores reach 2^-100 of the largest (conv0 .. conv4 here: 2^-131 .. 2^-126, error up to
     * 1e-3 of their own size and 1e-40 of the total); the overall check covers every score
     */
    @Test void chainWithBiases() {
        for (double density : new double[] {1, 0.05}) {
            try (Module model = new PxFloat32Test.Chain(40, 16, 13, true).eval(); MemoryScope s = MemoryScope.open()) {
                compare("bias chain 40 x 16, density " + density, model,
                        density == 1 ? Masks.ones(model) : TinyModels.randomMasks(model, density, 4), chainData(), 0x1p-100);
            }
        }
    }

    @Test void tinyNetworks() {
        try (MemoryScope s = MemoryScope.open(); var cnn = new TinyModels.Cnn(7, true, false)) {
            TinyModels.perturbBatchNorms(cnn, 1);
            cnn.eval();
            compare("tiny cnn", cnn, TinyModels.randomMasks(cnn, 0.7, 3), new ScoringData(Tensor.zeros(DType.F32, 1, 1, 4, 4), new int[1], 2, 0));
        }
        for (int[] k : new int[][] {{2, 2, 0}, {3, 2, 1}}) {
            try (MemoryScope s = MemoryScope.open(); var pool = new TinyModels.PoolNet(3, 6, k[0], k[1], k[2], 2)) {
                compare("pool net " + java.util.Arrays.toString(k), pool, TinyModels.randomMasks(pool, 0.8, 4),
                        new ScoringData(Tensor.zeros(DType.F32, 1, 1, 6, 6), new int[1], 2, 0));
            }
        }
    }

    /** all scores of one call share one power of two: pruning by float32 and by float64 scores keeps the same weights */
    @Test void sameMasksAsFloat64() {
        try (Module model = ModelRegistry.create("resnet20", 3, 10, 32, 1).eval(); MemoryScope s = MemoryScope.open()) {
            ScoringData data = new ScoringData(Tensor.zeros(DType.F32, 1, 3, 32, 32), new int[1], 10, 1);
            Masks a = Pruner.run(model, new SynFlowScorer(false, DType.F64), data, new Pruner.Config(0.05, 10), null, null).masks();
            try (Module fresh = ModelRegistry.create("resnet20", 3, 10, 32, 1).eval()) {
                Masks b = Pruner.run(fresh, new SynFlowScorer(false, DType.F32), data, new Pruner.Config(0.05, 10), null, null).masks();
                long differ = 0;
                for (String n : a.names()) {
                    float[] x = a.values(n), y = b.values(n);
                    for (int i = 0; i < x.length; i++) if (x[i] != y[i]) differ++;
                }
                System.out.printf("synflow float32 vs float64, 10 rounds to 0.05 on resnet20: %d of %d mask entries differ%n", differ, a.total());
                assertTrue(differ <= a.total() * 1e-4, differ + " mask entries differ");
            }
        }
    }

    @Test void refusesATensorComputedOutsideTheInterpreter() {
        Module model = new Module() {
            final Conv2d conv = registerModule("conv", new Conv2d(1, 2, 3, 1, 1, false, new Init(1)));
            final Linear fc = registerModule("fc", new Linear(32, 2, false, new Init(2)));

            @Override public Tensor forward(Tensor x, Interpreter it) {
                return fc.forward(Ops.flatten(it.relu(conv.forward(x, it)), 1), it); // flatten not through it
            }
        };
        try (model; MemoryScope s = MemoryScope.open()) {
            ScoringData data = new ScoringData(TinyModels.randomInputs(1, 2, 1, 4, 4), new int[] {0, 1}, 2, 0);
            new SynFlowScorer(false, DType.F64).score(model, Masks.ones(model), data); // float64 needs no exponents
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> new SynFlowScorer(false, DType.F32).score(model, Masks.ones(model), data));
            assertTrue(e.getMessage().contains("Interpreter") && e.getMessage().contains("float64"), e.getMessage());
        }
    }

    @Test void registryAndPrecision() {
        assertEquals(DType.F32, SynFlowScorer.DEFAULT_PRECISION);
        for (String m : new String[] {"synflow", "synflow_l2"}) {
            assertEquals(SynFlowScorer.DEFAULT_PRECISION, ((SynFlowScorer) ScorerRegistry.create(m)).precision());
            assertEquals(DType.F64, ((SynFlowScorer) ScorerRegistry.create(m, DType.F64)).precision());
            assertEquals(DType.F32, ((SynFlowScorer) ScorerRegistry.create(m, DType.F32)).precision());
        }
        assertEquals(SynFlowScorer.DEFAULT_PRECISION, new SynFlowScorer(true).precision());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SynFlowScorer(false, DType.I32));
        assertTrue(e.getMessage().contains("F32 or F64"), e.getMessage());
        assertFalse(new SynFlowScorer(true).name().equals(new SynFlowScorer(false).name()));
    }
}
