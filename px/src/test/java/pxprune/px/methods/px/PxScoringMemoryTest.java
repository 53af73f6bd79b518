package pxprune.px.methods.px;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.CpuBackend;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.SGD;
import pxprune.px.Masks;
import pxprune.px.ScoringData;

/**
 * PX scoring's peak native memory per image against a training step's, on the CPU (PX per image &lt;= a training
 * step's). ResNet-20 here; ResNet-50 at 224 px, whose PX peak has a fixed part that the images share (so it depends on
 * the batch), is a figure of bench's MemoryBench, not a pass/fail test. Both are peaks of CpuBackend's own accounting above the
 * baseline of what exists before the work starts (model, data, and for training the gradients and
 * momentum buffers of a first step), divided by the images.
 */
class PxScoringMemoryTest {
    private static final CpuBackend CPU = CpuBackend.INSTANCE;

    /** native bytes allocated now */
    private static long allocated() { return CPU.memoryStats().allocatedBytes(); }

    /** the peak above what is allocated now of running work, in bytes */
    private static long peakOf(Runnable work) {
        long base = allocated();
        CPU.resetPeakMemory();
        work.run();
        return CPU.memoryStats().peakAllocatedBytes() - base;
    }

    private static Tensor images(int n, int side, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n * 3 * side * side];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Tensor.of(v, n, 3, side, side);
    }

    private static int[] labels(int n, int classes) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = (i * 7) % classes;
        return y;
    }

    /** one PX scoring (A in float32, the default) of n images in chunks of batch: its peak in bytes */
    static long pxPeak(String model, int classes, int side, int n, int batch) {
        try (Module m = ModelRegistry.create(model, 3, classes, side, 1); Tensor x = images(n, side, 3)) {
            ScoringData d = new ScoringData(x, labels(n, classes), classes, 1, batch);
            Masks masks = Masks.ones(m);
            PxScorer px = new PxScorer(false, pxprune.kernels.DType.F32);
            try (MemoryScope s = MemoryScope.open()) { px.score(m, masks, d); } // warm up (lazily built state)
            return peakOf(() -> {
                try (MemoryScope s = MemoryScope.open()) { px.score(m, masks, d); }
            });
        }
    }

    /**
     * one SGD training step (forward, cross-entropy, backward, step) of batch images, after a first step
     * that allocated the gradients and momentum buffers (they are in the baseline): its peak in bytes
     */
    static long trainingPeak(String model, int classes, int side, int batch) {
        try (Module m = ModelRegistry.create(model, 3, classes, side, 1); Tensor x = images(batch, side, 3);
             Tensor y = Tensor.ofInts(labels(batch, classes), batch); SGD opt = SGD.of(m, 0.01, 0.9, 5e-4, false)) {
            m.train(true);
            Runnable step = () -> {
                try (MemoryScope s = MemoryScope.open()) {
                    Ops.crossEntropy(m.forward(x), y).backwardAndFree(); // as Trainer: activations go as the backward passes them
                    opt.step();
                }
            };
            step.run();
            long peak = peakOf(step);
            opt.zeroGrad();
            return peak;
        }
    }

    private static double mib(long bytes, int images) { return bytes / (1024.0 * 1024.0) / images; }

    private static void compare(String model, int classes, int side, int n, int batch) {
        double px = mib(pxPeak(model, classes, side, n, batch), n), train = mib(trainingPeak(model, classes, side, batch), batch);
        System.out.printf(Locale.ROOT, "%s at %d px, %d images, batch %d: PX scoring %.3f MiB per image, training step %.3f MiB per image%n",
                model, side, n, batch, px, train);
        assertTrue(px <= train, String.format(Locale.ROOT, "%s: PX scoring's peak is %.3f MiB per image, above a training step's %.3f MiB",
                model, px, train));
    }

    @Test void pxScoringOfResNet20TakesNoMoreMemoryPerImageThanATrainingStep() { compare("resnet20", 10, 32, 32, 32); }

}
