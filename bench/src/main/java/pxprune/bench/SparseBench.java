package pxprune.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.Prunable;
import pxprune.nn.SGD;
import pxprune.nn.Sparsity;

/**
 * One SGD step (forward, backward, masked update with momentum and weight decay) of a masked
 * ResNet-20 on CIFAR-sized inputs (3x32x32, 10 classes, batch 100), every prunable layer at the
 * same density with its kept weights drawn at random, on the dense kernels ({@code kernels=dense},
 * what masked training costs without the sparse kernels) and with {@link Sparsity} in auto mode
 * ({@code kernels=sparse}: each layer sparse or dense by the measured crossover). The report's
 * ratio is sparse / dense at each density.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxBytes=0", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class SparseBench {
    @Param({"0.1", "0.05", "0.01"}) public double density;
    @Param({"dense", "sparse"}) public String kernels;
    Module net;
    SGD sgd;
    Sparsity sparsity;
    Tensor x, y;

    @Setup public void setup() {
        Masked m = Masked.resnet20(density, kernels.equals("sparse") ? "auto" : "dense");
        net = m.net; sgd = m.sgd; sparsity = m.sparsity;
        x = Fixtures.images(100, 3, 32, 1);
        y = Tensor.ofInts(Fixtures.labels(100, 10), 100);
    }

    /** a ResNet-20 (3x32x32, 10 classes) whose every prunable layer keeps a random {@code density} of its weights, masked SGD, Sparsity in {@code mode} */
    record Masked(Module net, SGD sgd, Sparsity sparsity) {
        static Masked resnet20(double density, String mode) {
            Module net = ModelRegistry.create("resnet20", 3, 10, 32, 1);
            Map<String, Tensor> weights = Prunable.prunableWeights(net);
            Map<String, float[]> masks = new LinkedHashMap<>();
            SplittableRandom r = new SplittableRandom(1);
            weights.forEach((name, w) -> {
                float[] m = new float[(int) w.numel()], v = new float[m.length];
                w.backend().download(w.ptr(), v);
                for (int i = 0; i < m.length; i++) { m[i] = r.nextDouble() < density ? 1 : 0; v[i] *= m[i]; }
                w.backend().upload(v, w.ptr());
                masks.put(name, m);
            });
            SGD sgd = SGD.of(net, 0.1, 0.9, 5e-4, false);
            masks.forEach((name, m) -> sgd.setMask(name, Tensor.of(m, weights.get(name).shape())));
            return new Masked(net, sgd, Sparsity.attach(net, masks, mode));
        }

        void step(Tensor x, Tensor y) {
            try (MemoryScope s = MemoryScope.open()) {
                Ops.crossEntropy(net.forward(x), y).backwardAndFree();
                sgd.step();
                sgd.zeroGrad();
            }
        }

        void close() { sparsity.close(); sgd.close(); net.close(); }
    }

    @TearDown public void tearDown() { new Masked(net, sgd, sparsity).close(); x.close(); y.close(); }

    @Benchmark public void sgdStep() { new Masked(net, sgd, sparsity).step(x, y); }
}
