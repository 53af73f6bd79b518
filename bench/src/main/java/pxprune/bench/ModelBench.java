package pxprune.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.Module;
import pxprune.nn.ModelRegistry;

/**
 * Whole models on CIFAR-sized inputs (3x32x32, 10 classes), float32: no-grad forward and
 * forward+backward of the mean cross-entropy, in training mode (VGG at batch 1: eval mode), at batch 1 and 100.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxBytes=0", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class ModelBench {
    @Param({"resnet20", "vgg16_bn"}) public String model;
    @Param({"1", "100"}) public int batch;
    Module net;
    Tensor x, y;

    @Setup public void setup() {
        net = ModelRegistry.create(model, 3, 10, 32, 1);
        // VGG reaches 1x1 feature maps: batch statistics of one sample do not exist (PyTorch refuses too)
        if (batch < 2 && model.startsWith("vgg")) net.eval();
        x = Fixtures.images(batch, 3, 32, 1);
        y = Tensor.ofInts(Fixtures.labels(batch, 10), batch);
    }

    @TearDown public void tearDown() { net.close(); x.close(); y.close(); }

    @Benchmark public void forward() {
        try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) { net.forward(x); }
    }

    @Benchmark public void forwardBackward() {
        try (MemoryScope s = MemoryScope.open()) {
            Ops.crossEntropy(net.forward(x), y).backwardAndFree();
            net.zeroGrad();
        }
    }
}
