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
 * torchvision's ResNet-50 on ImageNet-sized inputs (3x224x224, 1000 classes), batch 16, float32,
 * training mode: no-grad forward and forward+backward of the mean cross-entropy (one call takes
 * seconds on 2 cores, so fewer iterations than ModelBench). The keys match bench/pytorch_bench.py's
 * "ModelBench.* batch=16 model=resnet50", so the table puts PyTorch's figure beside ours.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxBytes=0", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"})
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 2, time = 1)
public class LargeModelBench {
    @Param({"resnet50"}) public String model;
    @Param({"16"}) public int batch;
    Module net;
    Tensor x, y;

    @Setup public void setup() {
        net = ModelRegistry.create(model, 3, 1000, 224, 1);
        x = Fixtures.images(batch, 3, 224, 1);
        y = Tensor.ofInts(Fixtures.labels(batch, 1000), batch);
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
