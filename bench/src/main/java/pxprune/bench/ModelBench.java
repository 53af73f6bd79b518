package pxprune.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;

/**
 * Whole models, float32, training mode: no-grad forward and forward+backward of the mean
 * cross-entropy. {@link Cifar}: ResNet-20 and VGG-16-BN on CIFAR-sized inputs (3x32x32, 10
 * classes) at batch 1 and 100 (VGG at batch 1: eval mode); {@link ImageNet}: torchvision's
 * ResNet-50 on ImageNet-sized inputs (3x224x224, 1000 classes) at batch 16, one call taking
 * seconds on 2 cores, so with fewer iterations. bench/pytorch_bench.py times PyTorch under the
 * same keys, so the table puts its figure beside ours.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxBytes=0", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class ModelBench {
    /** a model with a batch of random images and labels */
    public abstract static class Workload {
        Module net;
        Tensor x, y;

        void load(String model, int batch, int side, int classes) {
            net = ModelRegistry.create(model, 3, classes, side, 1);
            // VGG reaches 1x1 feature maps: batch statistics of one sample do not exist (PyTorch refuses too)
            if (batch < 2 && model.startsWith("vgg")) net.eval();
            x = Fixtures.images(batch, 3, side, 1);
            y = Tensor.ofInts(Fixtures.labels(batch, classes), batch);
        }

        @TearDown public void tearDown() { net.close(); x.close(); y.close(); }

        void forward() {
            try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) { net.forward(x); }
        }

        void forwardBackward() {
            try (MemoryScope s = MemoryScope.open()) {
                Ops.crossEntropy(net.forward(x), y).backwardAndFree();
                net.zeroGrad();
            }
        }
    }

    @State(Scope.Thread)
    public static class Cifar extends Workload {
        @Param({"resnet20", "vgg16_bn"}) public String model;
        @Param({"1", "100"}) public int batch;

        @Setup public void setup() { load(model, batch, 32, 10); }
    }

    @State(Scope.Thread)
    public static class ImageNet extends Workload {
        @Param({"resnet50"}) public String model;
        @Param({"16"}) public int batch;

        @Setup public void setup() { load(model, batch, 224, 1000); }
    }

    @Benchmark public void forward(Cifar w) { w.forward(); }

    @Benchmark public void forwardBackward(Cifar w) { w.forwardBackward(); }

    @Benchmark @Warmup(iterations = 1, time = 1) @Measurement(iterations = 2, time = 1)
    public void imageNetForward(ImageNet w) { w.forward(); }

    @Benchmark @Warmup(iterations = 1, time = 1) @Measurement(iterations = 2, time = 1)
    public void imageNetForwardBackward(ImageNet w) { w.forwardBackward(); }
}
