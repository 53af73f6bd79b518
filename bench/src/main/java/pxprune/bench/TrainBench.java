package pxprune.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.datasets.Batch;
import pxprune.datasets.BatchIterator;
import pxprune.datasets.Dataset;
import pxprune.datasets.DatasetRegistry;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.SGD;
import pxprune.px.Masks;
import pxprune.px.Pruner;
import pxprune.px.methods.ScorerRegistry;
import pxprune.px.ScoringData;

/**
 * One training epoch of ResNet-20 on the digits training split (1x8x8, batch 64, SGD with momentum
 * and weight decay), dense and with masks at density 0.01 (pruned weights kept at zero by the
 * masked SGD step). The report gives masked / dense.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxBytes=0", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"})
@Warmup(iterations = 2)
@Measurement(iterations = 4)
public class TrainBench {
    @Param({"dense", "masked"}) public String variant;
    Module model;
    SGD sgd;
    Dataset train;
    int epoch;

    @Setup public void setup() {
        train = DatasetRegistry.load("digits", null, true, 0);
        model = ModelRegistry.create("resnet20", 1, 10, 8, 1);
        sgd = SGD.of(model, 0.1, 0.9, 5e-4, false);
        if (variant.equals("masked")) {
            Dataset few = train.subset(java.util.stream.IntStream.range(0, 100).toArray());
            ScoringData d = new ScoringData(Tensor.of(few.images(), few.size(), 1, 8, 8), few.labels(), 10, 1);
            Masks m = Pruner.run(model, ScorerRegistry.create("random"), d, new Pruner.Config(0.01, 1), null, null).masks();
            m.apply(model);
            Map<String, Tensor> masks = new LinkedHashMap<>();
            for (String n : m.names()) masks.put(n, m.tensor(n));
            sgd.setMasks(masks);
        }
    }

    @TearDown public void tearDown() {
        sgd.close();
        model.close();
    }

    @Benchmark public void epoch() {
        BatchIterator it = new BatchIterator(train, 64, true, 1, epoch++, true);
        while (it.hasNext()) {
            Batch b = it.nextBatch();
            try (MemoryScope s = MemoryScope.open()) {
                Tensor x = Tensor.of(b.x(), b.n(), b.c(), b.h(), b.w());
                Ops.crossEntropy(model.forward(x), Tensor.ofInts(b.y(), b.n())).backwardAndFree();
                sgd.step();
                sgd.zeroGrad();
            }
        }
    }
}
