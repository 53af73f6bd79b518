package pxprune.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.Backend;
import pxprune.kernels.CpuBackend;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.SGD;
import pxprune.px.Masks;
import pxprune.px.methods.ScorerRegistry;
import pxprune.px.ScoringData;

/**
 * Peak native memory per image of one piece of work, on the CPU: the most the backend's
 * allocations ({@link Backend#memoryStats()}) rose above what was allocated when the work began,
 * divided by the images. Not a JMH benchmark: bytes are deterministic, so one run of each case
 * after a warm-up suffices. BenchMain prints these next to PyTorch's peak RSS for the same
 * training steps ({@code pytorch_bench.py --memory}).
 * <ul>
 *   <li>{@code train}: one SGD step (momentum 0.9, weight decay 5e-4) of the mean cross-entropy in
 *       training mode, after a first step, so the gradients and momentum buffers belong to the
 *       baseline as they do in PyTorch after its first step;</li>
 *   <li>{@code px}: one PX scoring (the default, A in float32) of the same model on the same images,
 *       all images in one chunk: target, at most a training step's per image.</li>
 * </ul>
 */
public final class MemoryBench {
    private MemoryBench() {}

    /** one case: a model at an input size and a batch */
    record Case(String model, int size, int classes, int batch) {
        String key(String work) { return "MemoryBench." + work + " batch=" + batch + " model=" + model; }
    }

    static final Case[] CASES = {new Case("resnet20", 32, 10, 100), new Case("vgg16_bn", 32, 10, 100),
            new Case("resnet50", 224, 1000, 8)};

    /** key -> MiB per image, for the cases whose key matches include */
    static Map<String, Double> measure(java.util.regex.Pattern include) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Case c : CASES) {
            boolean train = include.matcher(c.key("train")).find(), px = include.matcher(c.key("px")).find();
            if (!train && !px) continue;
            try (Module m = ModelRegistry.create(c.model, 3, c.classes, c.size, 1)) {
                Tensor x = Fixtures.images(c.batch, 3, c.size, 1);
                int[] labels = Fixtures.labels(c.batch, c.classes);
                if (train) out.put(c.key("train"), mib(trainStepPeak(m, x, labels), c.batch));
                if (px) out.put(c.key("px"), mib(pxPeak(m, x, labels, c.classes), c.batch));
                x.close();
            }
            System.err.println("pxprune: bench: memory " + c.model + " batch " + c.batch + ": " + out);
        }
        return out;
    }

    private static double mib(long bytes, int images) { return bytes / (double) images / (1 << 20); }

    /** bytes above the baseline at the peak of one training step (after one step that allocates the gradients and momentum) */
    static long trainStepPeak(Module model, Tensor x, int[] labels) {
        model.train(true);
        try (SGD sgd = SGD.of(model, 0.1, 0.9, 5e-4, false)) {
            step(model, sgd, x, labels);
            return peakOf(() -> step(model, sgd, x, labels));
        }
    }

    private static void step(Module model, SGD sgd, Tensor x, int[] labels) {
        try (MemoryScope s = MemoryScope.open()) {
            Ops.crossEntropy(model.forward(x), Tensor.ofInts(labels, labels.length)).backwardAndFree();
            sgd.step();
            sgd.zeroGrad();
        }
    }

    /** bytes above the baseline at the peak of one PX scoring of model on x, one chunk */
    static long pxPeak(Module model, Tensor x, int[] labels, int classes) {
        ScoringData data = new ScoringData(x, labels, classes, 1);
        Masks masks = Masks.ones(model);
        Runnable score = () -> {
            for (Tensor t : ScorerRegistry.create("px").score(model, masks, data).values()) t.close();
        };
        score.run(); // warm-up: the kernels' per-thread scratch is grown once and kept
        return peakOf(score);
    }

    private static long peakOf(Runnable work) {
        Backend cpu = CpuBackend.INSTANCE;
        long base = cpu.memoryStats().allocatedBytes();
        cpu.resetPeakMemory();
        work.run();
        return cpu.memoryStats().peakAllocatedBytes() - base;
    }

    /** prints every case: {@code MemoryBench [INCLUDE]} */
    public static void main(String[] args) {
        var inc = java.util.regex.Pattern.compile(args.length > 0 ? args[0] : ".*");
        measure(inc).forEach((k, v) -> System.out.printf("%s: %.2f MiB per image%n", k, v));
    }
}
