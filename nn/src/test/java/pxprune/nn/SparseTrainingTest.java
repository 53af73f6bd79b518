package pxprune.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.nn.models.CifarResNet;

/**
 * A masked ResNet-20 trained for 50 SGD steps (momentum, weight decay, a batch of 12: not a multiple
 * of 8 or 16) with its pruned layers on the sparse kernels against the same run on the dense ones:
 * per-step losses agree to float32 noise, the run on sparse kernels is bitwise reproducible (and
 * does not read pruned weights: the sparse runs start with NaN at one layer's pruned weights, which
 * masked SGD then zeroes), and pruned weights stay exactly zero. The masks keep 5% of most layers (random), empty a whole
 * stage (as PX does to ResNet-20's last stages at density 0.01), keep one weight of one layer and
 * all of the stem.
 *
 * <p>The bound: the two runs may differ only in the order of float32 sums, which SGD then carries
 * from step to step. Where the dense layers run on the direct kernels the order is the same (both
 * sum each output over (input channel, tap) in one FMA chain; the sparse kernels only skip the
 * pruned products, exact zeros) and the losses agree bit for bit; on im2col + sgemm, or with
 * another vector width, they drift apart by float32 rounding, amplified over 50 steps. A wrong
 * gradient changes the losses by O(1e-2) within a few steps; the test allows 2e-4 relative.
 */
class SparseTrainingTest {
    static final int STEPS = 50, BATCH = 12;

    static Map<String, float[]> masks(Module model) {
        SplittableRandom r = new SplittableRandom(5);
        Map<String, float[]> out = new LinkedHashMap<>();
        boolean first = true;
        for (Map.Entry<String, Tensor> e : Prunable.prunableWeights(model).entrySet()) {
            float[] m = new float[(int) e.getValue().numel()];
            String name = e.getKey();
            if (first) { first = false; continue; } // the stem: unpruned
            if (name.matches("blocks\\.[678]\\..*")) { out.put(name, m); continue; } // an emptied stage
            if (name.equals("blocks.3.conv2.weight")) { m[m.length / 3] = 1; out.put(name, m); continue; }
            for (int i = 0; i < m.length; i++) m[i] = r.nextDouble() < 0.05 ? 1 : 0;
            out.put(name, m);
        }
        return out;
    }

    /** sets every pruned weight to zero, as a pruned network holds it */
    static void zeroPruned(Map<String, Tensor> weights, Map<String, float[]> masks) {
        masks.forEach((name, m) -> {
            Tensor w = weights.get(name);
            float[] v = new float[m.length];
            w.backend().download(w.ptr(), v);
            for (int i = 0; i < v.length; i++) v[i] *= m[i];
            w.backend().upload(v, w.ptr());
        });
    }

    /** the per-step losses of a run; pruned layers sparse or dense by mode */
    static double[] train(String mode, Map<String, float[]> masksOut) {
        try (MemoryScope scope = MemoryScope.open(); CifarResNet model = new CifarResNet(20, 16, 3, 10, new Init(1))) {
            Map<String, float[]> masks = masks(model);
            if (masksOut != null) masksOut.putAll(masks);
            Map<String, Tensor> weights = Prunable.prunableWeights(model);
            zeroPruned(weights, masks);
            double[] losses = new double[STEPS];
            try (SGD opt = SGD.of(model, 0.05, 0.9, 5e-4, false); Sparsity sparse = Sparsity.attach(model, masks, mode)) {
                masks.forEach((name, m) -> opt.setMask(name, Tensor.of(m, weights.get(name).shape())));
                assertEquals(mode.equals("dense") ? 0 : masks.size(), sparse.layers().size(), mode + ": layers on sparse kernels");
                if (!mode.equals("dense")) { // the sparse kernels never read a pruned weight: NaN there changes nothing
                    Tensor w = weights.get("blocks.1.conv1.weight");
                    float[] v = new float[(int) w.numel()];
                    w.backend().download(w.ptr(), v);
                    float[] m = masks.get("blocks.1.conv1.weight");
                    for (int i = 0; i < v.length; i++) if (m[i] == 0) v[i] = Float.NaN;
                    w.backend().upload(v, w.ptr());
                }
                // one batch, seen every step: the network memorises it, so the loss moves
                SplittableRandom data = new SplittableRandom(9);
                float[] x = new float[BATCH * 3 * 16 * 16];
                for (int i = 0; i < x.length; i++) x[i] = (float) data.nextGaussian();
                int[] y = new int[BATCH];
                for (int i = 0; i < BATCH; i++) y[i] = data.nextInt(10);
                for (int s = 0; s < STEPS; s++)
                    try (MemoryScope step = MemoryScope.open()) {
                        Tensor loss = Ops.crossEntropy(model.forward(Tensor.of(x, BATCH, 3, 16, 16)), Tensor.ofInts(y, BATCH));
                        losses[s] = loss.item();
                        loss.backward();
                        opt.step();
                        opt.zeroGrad();
                    }
            }
            masks.forEach((name, m) -> {
                double[] v = weights.get(name).toDoubleArray();
                for (int i = 0; i < v.length; i++) if (m[i] == 0) assertEquals(0.0, v[i], name + " pruned weight " + i);
            });
            return losses;
        }
    }

    @Test void sparseTrainingFollowsDenseTrainingToFloat32Noise() {
        double[] dense = train("dense", null), sparse = train("sparse", null), again = train("sparse", null);
        assertArrayEquals(sparse, again, "two runs on the sparse kernels differ");
        double worst = 0;
        for (int s = 0; s < STEPS; s++) worst = Math.max(worst, Math.abs(sparse[s] - dense[s]) / Math.abs(dense[s]));
        assertTrue(worst <= 2e-4, "per-step losses differ by up to " + worst + " relative");
        assertTrue(dense[STEPS - 1] < 0.95 * dense[0], "the run does not learn: " + dense[0] + " -> " + dense[STEPS - 1]);
        System.out.println("sparse vs dense training, 50 steps: worst relative loss difference " + worst);
    }

    @Test void autoModeTakesLowDensityAndEmptiedLayersAndRejectsUnmaskedWeights() {
        try (MemoryScope scope = MemoryScope.open(); CifarResNet model = new CifarResNet(20, 16, 3, 10, new Init(1))) {
            Map<String, float[]> all = masks(model);
            Map<String, float[]> some = new LinkedHashMap<>();
            some.put("blocks.6.conv1.weight", all.get("blocks.6.conv1.weight")); // emptied
            float[] half = new float[all.get("blocks.0.conv1.weight").length];
            for (int i = 0; i < half.length; i += 2) half[i] = 1;
            some.put("blocks.0.conv1.weight", half); // density 0.5: dense in auto mode
            Map<String, Tensor> weights = Prunable.prunableWeights(model);
            Tensor w = weights.get("blocks.6.conv1.weight");
            w.backend().upload(new float[(int) w.numel()], w.ptr());
            try (Sparsity s = Sparsity.attach(model, some, "auto")) {
                assertEquals(List.of("blocks.6.conv1"), s.layers());
            }
            // a pruned weight that is not zero: the masks were not applied
            some.put("blocks.0.conv1.weight", new float[half.length]);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Sparsity.attach(model, some, "auto"));
            assertTrue(e.getMessage().contains("apply the masks"), e.getMessage());
            System.setProperty(Sparsity.PROPERTY, "fast");
            try {
                IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, Sparsity::mode);
                assertTrue(e2.getMessage().contains("use auto, sparse or dense"), e2.getMessage());
            } finally { System.clearProperty(Sparsity.PROPERTY); }
        }
    }

    /** inference on the masks a pruned network's zero weights imply (predict): the same logits as the dense kernels */
    @Test void inferenceOnTheMasksOfZeroWeightsMatchesDense() {
        try (MemoryScope scope = MemoryScope.open(); CifarResNet model = new CifarResNet(20, 16, 3, 10, new Init(1))) {
            Map<String, float[]> masks = masks(model);
            Map<String, Tensor> weights = Prunable.prunableWeights(model);
            zeroPruned(weights, masks);
            Map<String, float[]> implied = Sparsity.zeroMasks(model);
            assertEquals(masks.keySet(), implied.keySet(), "the layers with zero weights");
            masks.forEach((name, m) -> assertArrayEquals(m, implied.get(name), name));
            model.train(false);
            SplittableRandom data = new SplittableRandom(4);
            float[] x = new float[3 * 3 * 16 * 16];
            for (int i = 0; i < x.length; i++) x[i] = (float) data.nextGaussian();
            double[] dense = model.forward(Tensor.of(x, 3, 3, 16, 16)).toDoubleArray(), sparse;
            try (Sparsity s = Sparsity.attach(model, implied, "sparse")) {
                assertEquals(masks.size(), s.layers().size());
                sparse = model.forward(Tensor.of(x, 3, 3, 16, 16)).toDoubleArray();
            }
            double err = 0, scale = 0;
            for (int i = 0; i < dense.length; i++) { err = Math.max(err, Math.abs(dense[i] - sparse[i])); scale = Math.max(scale, Math.abs(dense[i])); }
            assertTrue(err <= 1e-5 * scale, "logits differ by " + err + " (scale " + scale + ")");
        }
    }
}
