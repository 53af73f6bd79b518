package pxprune.px.methods.px;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import pxprune.core.GradMode;
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
import pxprune.px.PrunableLayer;
import pxprune.px.Pruner;
import pxprune.px.ScoringData;
import pxprune.px.Substituted;
import pxprune.px.TinyModels;
import pxprune.px.methods.ScorerRegistry;

/**
 * PX with its activation network in float32 scaled by powers of two ({@link ScaledActivation},
 * docs/px-method.md#float32-activation-network) against the float64 oracle (the same scorer with A in float64):
 * relative L2 over all scores at most 1e-6 on the golden ResNet-20, ResNet-56 and VGG-19-BN, and on
 * a deep chain where plain float32 overflows; on a chain deeper still float64 overflows too and the
 * float32 scores still satisfy layer-wise conservation.
 */
public class PxFloat32Test {
    public static final double TOL = 1e-6;

    public static double relL2(Map<String, Tensor> expected, Map<String, Tensor> actual) {
        double num = 0, den = 0;
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            double[] a = e.getValue().toDoubleArray(), b = actual.get(e.getKey()).toDoubleArray();
            assertEquals(a.length, b.length, e.getKey());
            for (int i = 0; i < a.length; i++) {
                num += (a[i] - b[i]) * (a[i] - b[i]);
                den += a[i] * a[i];
            }
        }
        return Math.sqrt(num / den);
    }

    /** float32 against float64 on px and px_datafree; returns px's relative L2 */
    public static double compare(String what, Module model, Masks masks, ScoringData data) {
        double worst = 0;
        for (boolean dataFree : new boolean[] {false, true}) {
            try (MemoryScope s = MemoryScope.open()) {
                long t0 = System.nanoTime();
                Map<String, Tensor> f64 = new PxScorer(dataFree, DType.F64).score(model, masks, data);
                long t1 = System.nanoTime();
                Map<String, Tensor> f32 = new PxScorer(dataFree, DType.F32).score(model, masks, data);
                long t2 = System.nanoTime();
                double err = relL2(f64, f32);
                System.out.printf("px float32 %-40s %-11s relative L2 %.3e (float64 %.2fs, float32 %.2fs)%n", what,
                        dataFree ? "px_datafree" : "px", err, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
                assertTrue(err <= TOL, what + (dataFree ? " px_datafree" : " px") + ": relative L2 " + err);
                worst = Math.max(worst, err);
            }
        }
        return worst;
    }

    @Test void goldenResNet20() throws IOException {
        SafeTensors.File golden = SafeTensors.read(TestData.file("golden/resnet20_seed1.safetensors"));
        try (Module model = ModelRegistry.create("resnet20", 3, 10, 32, 1); MemoryScope s = MemoryScope.open()) {
            StateDicts.load(model, golden, "weight.");
            model.eval();
            Tensor x = golden.get("x").toTensor();
            ScoringData data = new ScoringData(x, golden.get("y").toInts(), 10, 1);
            compare("golden resnet20, dense", model, Masks.ones(model), data);
            compare("golden resnet20, random density 0.3", model, TinyModels.randomMasks(model, 0.3, 5), data);
        }
    }

    /** CIFAR shapes, a few images; random masks at density 0.3, and the mask one px round to density 0.3 leaves */
    @ParameterizedTest
    @ValueSource(strings = {"resnet56", "vgg19_bn"})
    void cifarModels(String name) {
        try (Module model = ModelRegistry.create(name, 3, 10, 32, 3); MemoryScope s = MemoryScope.open()) {
            TinyModels.perturbBatchNorms(model, 4);
            model.eval();
            Tensor x = TinyModels.randomInputs(6, 4, 3, 32, 32);
            ScoringData data = new ScoringData(x, new int[] {0, 1, 2, 3}, 10, 1);
            compare(name + ", random density 0.3", model, TinyModels.randomMasks(model, 0.3, 7), data);
            Masks oneRound = Pruner.run(model, new PxScorer(false, DType.F64), data, new Pruner.Config(0.3, 1), null, null).masks();
            compare(name + ", one px round to density 0.3", model, oneRound, data);
        }
    }

    /**
     * every other kind of operation the models route through their interpreter: DeepLabV3 (ASPP's
     * concatenation, adaptive pooling and bilinear upsampling, a dense output) and the ImageNet-style
     * ResNet class (its own blocks and residual sums); random masks at density 0.3, two images
     */
    @ParameterizedTest
    @ValueSource(strings = {"deeplabv3_resnet20", "resnet18"})
    void segmentationAndImageNetStyleModels(String name) {
        try (Module model = ModelRegistry.create(name, 3, 4, 32, 8); MemoryScope s = MemoryScope.open()) {
            TinyModels.perturbBatchNorms(model, 9);
            model.eval();
            Tensor x = TinyModels.randomInputs(10, 2, 3, 32, 32);
            compare(name + ", random density 0.3", model, TinyModels.randomMasks(model, 0.3, 11), new ScoringData(x, new int[2], 4, 1));
        }
    }

    /**
     * a chain of 3x3 convolutions width -> width on 8x8 inputs, each followed by ReLU, then global
     * pooling and a classifier; every layer with a bias or none
     */
    public static final class Chain extends Module {
        final Conv2d[] convs;
        final Linear fc;

        public Chain(int depth, int width, long seed) { this(depth, width, seed, false); }

        public Chain(int depth, int width, long seed, boolean bias) {
            Init init = new Init(seed);
            convs = new Conv2d[depth];
            for (int i = 0; i < depth; i++) convs[i] = registerModule("conv" + i, new Conv2d(i == 0 ? 2 : width, width, 3, 1, 1, bias, init));
            fc = registerModule("fc", new Linear(width, 3, bias, init));
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            for (Conv2d c : convs) x = it.relu(c.forward(x, it));
            return fc.forward(it.globalAvgPool(x), it);
        }
    }

    /** the largest output of A evaluated in plain float32, no rescaling: the data-free A (path counts); NaN if any is NaN */
    public static double plainFloat32DataFree(Module model, Masks masks, int[] sampleShape) {
        try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
            Substituted a = new Substituted(Substituted.maskWeights(PrunableLayer.of(model), masks, DType.F32), Substituted.noBiases(),
                    Substituted.identityNorm(), z -> z, Substituted::sumPool, Substituted::resampleSupport);
            float[] z1 = model.forward(Tensor.ones(DType.F32, sampleShape), a).toFloatArray();
            double max = 0;
            for (float v : z1) max = Math.max(max, v); // Math.max propagates NaN
            return max;
        }
    }

    @Test void deepChainWherePlainFloat32Overflows() {
        try (Module model = new Chain(24, 32, 11).eval(); MemoryScope s = MemoryScope.open()) {
            Tensor x = TinyModels.randomInputs(12, 3, 2, 8, 8);
            ScoringData data = new ScoringData(x, new int[] {0, 1, 2}, 3, 1);
            Masks masks = TinyModels.randomMasks(model, 0.9, 13);
            double plain = plainFloat32DataFree(model, masks, data.sampleShape());
            System.out.printf("px float32 deep chain: plain float32 A's largest output %s%n", plain);
            assertFalse(Double.isFinite(plain), "plain float32 should overflow on this chain (inf, or NaN from inf * 0): " + plain);
            double[] sums = new PxScorer(false, DType.F64).activationSums(model, PrunableLayer.of(model), masks, data);
            double max = java.util.Arrays.stream(sums).max().orElseThrow();
            System.out.printf("px float32 deep chain: float64 A's largest output summed over the data %.3e%n", max);
            assertTrue(max > Float.MAX_VALUE && Double.isFinite(max), "px's A should leave float32's range and stay in float64's: " + max);
            compare("deep chain 24 x 32 channels", model, masks, data);
        }
    }

    @Test void chainBeyondFloat64() {
        try (Module model = new Chain(160, 32, 17).eval(); MemoryScope s = MemoryScope.open()) {
            Tensor x = TinyModels.randomInputs(18, 2, 2, 8, 8);
            ScoringData data = new ScoringData(x, new int[] {0, 1}, 3, 1);
            Masks masks = Masks.ones(model);
            ArithmeticException e = assertThrows(ArithmeticException.class, () -> new PxScorer(true, DType.F64).score(model, masks, data));
            assertTrue(e.getMessage().contains("float32"), e.getMessage());
            Map<String, Tensor> scores = new PxScorer(true, DType.F32).score(model, masks, data);
            double[] sums = PxScorerTest.layerSums(scores);
            System.out.printf("px float32 160-layer chain (float64 A overflows): layer sums %.6e .. %.6e%n", sums[0], sums[sums.length - 1]);
            for (double v : sums) {
                assertTrue(Double.isFinite(v) && v > 0, "layer sum " + v);
                assertEquals(sums[0], v, 1e-5 * sums[0], "every layer of a chain sums to R");
            }
        }
    }

    /**
     * z1 * 2^e of A in float32 on x, rescaled when a tensor's bound exceeds limit (0: after every
     * layer), or with no rescaling at all (limit NaN: plain float32, x*x rounded to float32)
     */
    public static double[] scaledA(Module model, Masks masks, Tensor x, double limit) {
        List<PrunableLayer> layers = PrunableLayer.of(model);
        try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
            List<Tensor> gates = new java.util.ArrayList<>();
            model.forward(x, new Substituted(Substituted.maskedWeights(layers, masks, DType.F32, v -> v), Substituted.noBiases(),
                    (m, z) -> Ops.batchNormEval(z, m.weight(), m.bias(), m.runningMean(), m.runningVar(), m.eps), z -> {
                        gates.add(Ops.step(z));
                        return Ops.relu(z);
                    }));
            int[] next = {0};
            Substituted a = new Substituted(Substituted.maskWeights(layers, masks, DType.F32), Substituted.noBiases(),
                    Substituted.identityNorm(), z -> Ops.mul(z, gates.get(next[0]++)));
            Tensor xx = Ops.square(Ops.to(x, DType.F64));
            if (Double.isNaN(limit)) return model.forward(Ops.to(xx, DType.F32), a).toDoubleArray();
            ScaledActivation sa = new ScaledActivation(a, ScaledActivation.fanIns(layers, masks), limit);
            Tensor z1 = model.forward(sa.input(xx), sa);
            double[] v = z1.toDoubleArray();
            int e = sa.exponent(z1, "A's output");
            for (int i = 0; i < v.length; i++) v[i] = Math.scalb(v[i], e);
            System.out.printf("px float32 %s, limit %s: %d tensors rescaled%n", model.getClass().getSimpleName(), limit, sa.rescales());
            return v;
        }
    }

    /**
     * Powers of two are exact: rescaling after every layer, rescaling only when a bound exceeds
     * 2^64, and (where it stays in range) no rescaling at all give the same float32 numbers, bit for bit.
     */
    @Test void rescalingChangesNoBit() throws IOException {
        try (MemoryScope s = MemoryScope.open(); var cnn = new TinyModels.Cnn(7, true, false)) {
            TinyModels.perturbBatchNorms(cnn, 1);
            cnn.eval();
            Tensor x = TinyModels.randomInputs(1, 6, 1, 4, 4);
            Masks masks = TinyModels.randomMasks(cnn, 0.7, 3);
            double[] plain = scaledA(cnn, masks, x, Double.NaN);
            assertArrayEquals(plain, scaledA(cnn, masks, x, 0));
            assertArrayEquals(plain, scaledA(cnn, masks, x, ScaledActivation.LIMIT));
        }
        SafeTensors.File golden = SafeTensors.read(TestData.file("golden/resnet20_seed1.safetensors"));
        try (Module model = ModelRegistry.create("resnet20", 3, 10, 32, 1); MemoryScope s = MemoryScope.open()) {
            StateDicts.load(model, golden, "weight.");
            model.eval();
            Tensor x = Ops.narrow(golden.get("x").toTensor(), 0, 0, 10);
            Masks masks = Masks.ones(model);
            double[] every = scaledA(model, masks, x, 0), lazy = scaledA(model, masks, x, ScaledActivation.LIMIT);
            assertArrayEquals(every, lazy);
            double max = java.util.Arrays.stream(lazy).max().orElseThrow();
            assertTrue(max > Float.MAX_VALUE && Double.isFinite(max), "ResNet-20's A leaves float32's range: " + max);
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
            new PxScorer(false, DType.F64).score(model, Masks.ones(model), data); // float64 needs no exponents
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> new PxScorer(false, DType.F32).score(model, Masks.ones(model), data));
            assertTrue(e.getMessage().contains("Interpreter"), e.getMessage());
        }
    }

    @Test void registryAndPrecision() {
        assertEquals(DType.F32, ((PxScorer) ScorerRegistry.create("px", DType.F32)).precision());
        assertEquals(DType.F64, ((PxScorer) ScorerRegistry.create("px", DType.F64)).precision());
        assertEquals(DType.F32, ((PxScorer) ScorerRegistry.create("px_datafree", DType.F32)).precision());
        assertEquals(PxScorer.DEFAULT_PRECISION, ((PxScorer) ScorerRegistry.create("px")).precision());
        assertThrows(IllegalArgumentException.class, () -> new PxScorer(false, DType.I32));
    }

    @Test void tinyNetworksMatchTheOracle() {
        try (MemoryScope s = MemoryScope.open(); var cnn = new TinyModels.Cnn(7, true, false)) {
            TinyModels.perturbBatchNorms(cnn, 1);
            Tensor x = TinyModels.randomInputs(1, 6, 1, 4, 4);
            compare("tiny cnn", cnn, TinyModels.randomMasks(cnn, 0.7, 3), new ScoringData(x, new int[6], 2, 0));
        }
        for (List<Integer> k : List.of(List.of(2, 2, 0), List.of(3, 2, 1))) {
            try (MemoryScope s = MemoryScope.open(); var pool = new TinyModels.PoolNet(3, 6, k.get(0), k.get(1), k.get(2), 2)) {
                Tensor x = TinyModels.randomInputs(2, 5, 1, 6, 6);
                compare("pool net " + k, pool, TinyModels.randomMasks(pool, 0.8, 4), new ScoringData(x, new int[5], 2, 0));
            }
        }
    }
}
