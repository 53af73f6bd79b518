package pxprune.bench;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;
import pxprune.core.Autograd;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.Masks;
import pxprune.px.Pruner;
import pxprune.px.methods.ScorerRegistry;
import pxprune.px.ScoringData;

/**
 * PX and SynFlow, 100 rounds to density 0.018 on a CIFAR ResNet-20 with 100 images (3x32x32), and
 * PX's cost floor (docs/px-method.md#cost-floor) in the same run: per round one no-grad float32 forward of f
 * over the data, one no-grad float32 forward of the activation network A over the data (weights
 * 2^-7 instead of 1, an exact scaling that keeps ResNet-20's A in float32's range with no
 * per-layer work: the floor of px's default, docs/px-method.md#float32-activation-network; gates from f, no
 * normalization), one float64 forward+backward of the path-kernel network P on one sample.
 * {@code floorRound} times one such round; the report multiplies it by 100. {@code px100Rounds}
 * is px as {@code ScorerRegistry.create("px")} gives it (A in float32), {@code px100RoundsFloat64}
 * the same with A in float64 ({@code --precision float64}); {@code synflow100Rounds} is synflow's
 * default (float32 with power-of-two exponents, docs/px-method.md#float32-synflow), {@code
 * synflow100RoundsFloat64} float64. The JIT is warmed on short px and synflow runs of another model.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxBytes=0", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"})
public class PxBench {
    static final int ROUNDS = 100, IMAGES = 100;
    static final double DENSITY = 0.018;
    Module model;
    Tensor x;
    ScoringData data;
    // floor fixtures
    Map<Module, Tensor> scaled32 = new IdentityHashMap<>(), squared64 = new IdentityHashMap<>();
    Map<BatchNorm, Tensor> scale2 = new IdentityHashMap<>();
    List<Tensor> gates = new ArrayList<>();
    Tensor xx32, one64;

    @Setup public void setup() {
        model = ModelRegistry.create("resnet20", 3, 10, 32, 1).eval();
        x = Fixtures.images(IMAGES, 3, 32, 1);
        data = new ScoringData(x, Fixtures.labels(IMAGES, 10), 10, 1);
        try (GradMode g = GradMode.noGrad()) {
            for (Module m : model.namedModules().values()) {
                Tensor w = m instanceof Conv2d c ? c.weight() : m instanceof Linear l ? l.weight() : null;
                if (w != null) {
                    scaled32.put(m, Tensor.full(DType.F32, 0x1p-7, w.shape()));
                    squared64.put(m, Ops.square(w.to(DType.F64)));
                }
                if (m instanceof BatchNorm bn) scale2.put(bn, Ops.square(bn.evalScale()));
            }
            model.forward(x, new Interpreter() {
                @Override public Tensor relu(Tensor z) {
                    gates.add(Ops.step(z));
                    return Ops.relu(z);
                }
            });
            xx32 = Ops.square(x);
            one64 = Tensor.ones(DType.F64, 1, 3, 32, 32);
        }
        // warm the JIT on short runs of px and synflow, on a model of its own (the timed runs start from the fresh model)
        try (Module warm = ModelRegistry.create("resnet20", 3, 10, 32, 1).eval()) {
            Pruner.run(warm, ScorerRegistry.create("px"), data, new Pruner.Config(0.5, 2), null, null);
            Pruner.run(warm, ScorerRegistry.create("synflow"), data, new Pruner.Config(0.1, 20), null, null);
        }
    }

    @TearDown public void tearDown() {
        model.close();
        x.close();
    }

    private static Tensor[] leavesOf(Map<Module, Tensor> m) { return m.values().toArray(new Tensor[0]); }

    @Benchmark @BenchmarkMode(Mode.SingleShotTime) @OutputTimeUnit(TimeUnit.SECONDS)
    @Warmup(iterations = 0) @Measurement(iterations = 1)
    public Masks px100Rounds() {
        return Pruner.run(model, ScorerRegistry.create("px"), data, new Pruner.Config(DENSITY, ROUNDS), null, null).masks();
    }

    @Benchmark @BenchmarkMode(Mode.SingleShotTime) @OutputTimeUnit(TimeUnit.SECONDS)
    @Warmup(iterations = 0) @Measurement(iterations = 1)
    public Masks px100RoundsFloat64() {
        return Pruner.run(model, ScorerRegistry.create("px", DType.F64), data, new Pruner.Config(DENSITY, ROUNDS), null, null).masks();
    }

    /** synflow as {@code ScorerRegistry.create("synflow")} gives it: the linearised network in float32 with power-of-two exponents */
    @Benchmark @BenchmarkMode(Mode.SingleShotTime) @OutputTimeUnit(TimeUnit.SECONDS)
    @Warmup(iterations = 0) @Measurement(iterations = 1)
    public Masks synflow100Rounds() {
        return Pruner.run(model, ScorerRegistry.create("synflow"), data, new Pruner.Config(DENSITY, ROUNDS), null, null).masks();
    }

    /** the same in float64 ({@code --precision float64}), as Synaptic-Flow computes it */
    @Benchmark @BenchmarkMode(Mode.SingleShotTime) @OutputTimeUnit(TimeUnit.SECONDS)
    @Warmup(iterations = 0) @Measurement(iterations = 1)
    public Masks synflow100RoundsFloat64() {
        return Pruner.run(model, ScorerRegistry.create("synflow", DType.F64), data, new Pruner.Config(DENSITY, ROUNDS), null, null).masks();
    }

    /** one round of PX's cost floor */
    @Benchmark @BenchmarkMode(Mode.AverageTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2, time = 2) @Measurement(iterations = 3, time = 2)
    public double floorRound() {
        double r;
        try (MemoryScope s = MemoryScope.open()) {
            try (GradMode g = GradMode.noGrad()) {
                model.forward(x); // f over the data (gates)
                int[] site = {0};
                model.forward(xx32, new Interpreter() { // A over the data
                    @Override public Tensor conv2d(Conv2d m, Tensor in) { return Ops.conv2d(in, scaled32.get(m), null, m.stride, m.padding, m.dilation, m.groups); }
                    @Override public Tensor linear(Linear m, Tensor in) { return Ops.linear(in, scaled32.get(m), null); }
                    @Override public Tensor batchNorm(BatchNorm m, Tensor in) { return in; }
                    @Override public Tensor relu(Tensor z) { return Ops.mul(z, gates.get(site[0]++)); }
                });
            }
            Tensor[] leaves = leavesOf(squared64);
            for (Tensor l : leaves) l.requiresGrad(true);
            Tensor z2 = model.forward(one64, new Interpreter() { // P on one sample, forward and backward
                @Override public Tensor conv2d(Conv2d m, Tensor in) { return Ops.conv2d(in, squared64.get(m), null, m.stride, m.padding, m.dilation, m.groups); }
                @Override public Tensor linear(Linear m, Tensor in) { return Ops.linear(in, squared64.get(m), null); }
                @Override public Tensor batchNorm(BatchNorm m, Tensor in) { return Ops.channelAffine(in, scale2.get(m), null); }
                @Override public Tensor relu(Tensor z) { return z; }
            });
            Tensor[] g = Autograd.grad(Ops.sum(z2), List.of(leaves), false);
            r = g[0].numel();
            for (Tensor l : leaves) l.requiresGrad(false);
        }
        return r;
    }
}
