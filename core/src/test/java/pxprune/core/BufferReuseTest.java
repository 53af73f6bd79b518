package pxprune.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import pxprune.kernels.Backend;
import pxprune.kernels.CpuBackend;
import pxprune.kernels.DType;

/**
 * Memory of a training step: ops that write their result over an input nothing else uses
 * (Ops.reluReusing, Ops.addReusing), the check that catches a reused buffer something still
 * needed, and backwardAndFree, which frees the forward's results as the backward passes them.
 */
class BufferReuseTest {
    static final Backend CPU = CpuBackend.INSTANCE;
    final SplittableRandom rng = new SplittableRandom(3);

    Tensor rand(int... shape) {
        float[] v = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextDouble(-1, 1);
        return Tensor.of(v, shape);
    }

    static long allocated() { return CPU.memoryStats().allocatedBytes(); }

    @Test void reluReusingWritesOverItsInputAndRetiresIt() {
        try (MemoryScope s = MemoryScope.open()) {
            Tensor w = rand(4, 8).requiresGrad(true);
            Tensor a = Ops.affine(w, 2, 0);
            float[] expected = Ops.relu(a).toFloatArray();
            long before = allocated();
            Tensor y = Ops.reluReusing(a);
            assertEquals(before, allocated(), "the result lives in a's buffer: nothing allocated");
            assertArrayEquals(expected, y.toFloatArray());
            assertTrue(a.isClosed(), "a was taken over: reading it must fail");
            assertThrows(IllegalStateException.class, a::toFloatArray);
            Ops.sum(y).backward();
            float[] g = w.grad().toFloatArray();
            for (int i = 0; i < g.length; i++) assertEquals(expected[i] > 0 ? 2f : 0f, g[i]);
        }
    }

    @Test void addReusingMatchesAddAndChainsWithReluReusing() {
        try (MemoryScope s = MemoryScope.open()) {
            Tensor a = rand(2, 3, 4, 4).requiresGrad(true), b = rand(2, 3, 4, 4).requiresGrad(true);
            float[] expected = Ops.relu(Ops.add(Ops.affine(a, 1, 0), b)).toFloatArray();
            Tensor t = Ops.affine(a, 1, 0);
            long before = allocated();
            Tensor y = Ops.reluReusing(Ops.addReusing(t, b));
            assertEquals(before, allocated(), "sum and ReLU both in t's buffer");
            assertArrayEquals(expected, y.toFloatArray());
        }
    }

    @Test void fallsBackWhereTheBufferCannotBeReused() {
        try (MemoryScope s = MemoryScope.open()) {
            Tensor w = rand(3, 4).requiresGrad(true);
            Tensor r = Ops.reluReusing(w); // a parameter
            assertFalse(w.isClosed());
            assertArrayEquals(Ops.relu(w).toFloatArray(), r.toFloatArray());
            Tensor e = Ops.exp(Ops.affine(w, 1, 0)); // exp's backward reads its output
            Tensor re = Ops.reluReusing(e);
            assertFalse(e.isClosed(), "exp reads its output: not reused");
            Ops.sum(re).backward();
            double[] g = w.grad().toDoubleArray(), ev = e.toDoubleArray();
            for (int i = 0; i < g.length; i++) assertEquals(ev[i], g[i], 1e-6);
            Tensor v = Ops.affine(w, 1, 0), view = v.view(12);
            Ops.reluReusing(v);
            assertFalse(v.isClosed(), "a view shares the buffer: not reused");
            assertFalse(view.isClosed());
            Tensor small = Ops.affine(rand(4), 1, 0), big = rand(3, 4);
            Tensor sum = Ops.addReusing(small, big); // the sum is larger than small's buffer
            assertArrayEquals(new int[] {3, 4}, sum.shape());
            assertFalse(small.isClosed());
        }
    }

    @Test void backwardFailsWhenAReusedBufferWasStillNeeded() {
        try (MemoryScope s = MemoryScope.open()) {
            Tensor w = rand(5).requiresGrad(true);
            Tensor a = Ops.affine(w, 1, 0);
            Tensor m = Ops.mul(a, w); // mul's backward reads a
            Tensor r = Ops.reluReusing(a); // breaks the promise: a is still needed
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Ops.sum(Ops.add(m, r)).backward());
            assertTrue(e.getMessage().contains("mul") && e.getMessage().contains("overwritten"), e.getMessage());
        }
    }

    /** a small conv net in training mode: conv, batch norm, ReLU over it, a residual sum */
    static Tensor net(Tensor x, List<Tensor> p) {
        Tensor h = Ops.conv2d(x, p.get(0), null, 1, 1, 1);
        h = Ops.reluReusing(Ops.batchNormTrain(h, p.get(1), p.get(2), null, null, 0.1, 1e-5));
        Tensor h2 = Ops.batchNormTrain(Ops.conv2d(h, p.get(3), null, 1, 1, 1), p.get(1), p.get(2), null, null, 0.1, 1e-5);
        h = Ops.reluReusing(Ops.addReusing(h2, h));
        return Ops.linear(Ops.flatten(Ops.globalAvgPool(h), 1), p.get(4), null);
    }

    List<Tensor> params() {
        List<Tensor> p = new ArrayList<>();
        for (int[] s : new int[][] {{8, 3, 3, 3}, {8}, {8}, {8, 8, 3, 3}, {5, 8}}) p.add(MemoryScope.unscoped(() -> rand(s)).requiresGrad(true));
        return p;
    }

    @Test void backwardAndFreeGivesTheSameGradientsAndFreesTheActivations() {
        List<Tensor> p = params();
        Tensor x = rand(6, 3, 10, 10);
        int[] labels = {0, 1, 2, 3, 4, 0};
        Function<Boolean, float[][]> step = free -> {
            for (Tensor t : p) t.zeroGrad();
            long base = allocated();
            CPU.resetPeakMemory();
            try (MemoryScope s = MemoryScope.open()) {
                Tensor logits = net(x, p);
                Tensor loss = Ops.crossEntropy(logits, Tensor.ofInts(labels, 6));
                long afterForward = allocated();
                if (free) {
                    loss.backwardAndFree(logits);
                    assertEquals(5 * 6 * 4, logits.toFloatArray().length * 4, "kept: logits readable");
                    assertTrue(loss.item() > 0, "the root stays readable");
                    long grads = 0;
                    for (Tensor t : p) grads += t.numel() * 4;
                    assertTrue(allocated() - base < grads + (afterForward - base) / 4,
                            "after the backward little more than the gradients is live: " + (allocated() - base) + " bytes");
                } else loss.backward();
            }
            float[][] g = new float[p.size() + 1][];
            for (int i = 0; i < p.size(); i++) g[i] = p.get(i).grad().toFloatArray();
            g[p.size()] = new float[] {CPU.memoryStats().peakAllocatedBytes() - base};
            return g;
        };
        float[][] kept = step.apply(false), freed = step.apply(true);
        for (int i = 0; i < p.size(); i++) assertArrayEquals(kept[i], freed[i], "parameter " + i);
        assertTrue(freed[p.size()][0] < kept[p.size()][0], "the peak is lower: " + freed[p.size()][0] + " vs " + kept[p.size()][0]);
        x.close();
        for (Tensor t : p) t.close();
    }
}
