package pxprune.px.methods.px;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.kernels.CpuBackend;
import pxprune.kernels.DType;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Init;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.Masks;
import pxprune.px.ScoringData;
import pxprune.px.TinyModels;
import pxprune.px.Trace;

/**
 * EarlyRelease, the wrapper with which PX's CPU path frees each intermediate result once it has been
 * read: nn's models run under it with the same output and a lower peak, and a model that reads a freed
 * tensor again is still scored, to the same bits as with nothing freed early.
 */
class EarlyReleaseTest {
    private static final CpuBackend CPU = CpuBackend.INSTANCE;

    /** output bits and peak native bytes of one eval-mode forward, without and with EarlyRelease */
    @Test void nnModelsRunUnderItWithTheSameOutputAndALowerPeak() {
        for (String name : List.of("resnet20", "vgg11_bn", "resnet18", "resnet50", "deeplabv3_resnet20")) {
            try (Module m = ModelRegistry.create(name, 3, 10, 32, 1); Tensor x = TinyModels.randomInputs(2, 4, 3, 32, 32)) {
                m.eval();
                double[][] out = new double[2][];
                long[] peak = new long[2];
                int released = 0;
                for (int k = 0; k < 2; k++) {
                    EarlyRelease er = new EarlyRelease(Interpreter.STANDARD);
                    try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
                        long base = CPU.memoryStats().allocatedBytes();
                        CPU.resetPeakMemory();
                        out[k] = m.forward(x, k == 0 ? Interpreter.STANDARD : er).toDoubleArray();
                        peak[k] = CPU.memoryStats().peakAllocatedBytes() - base;
                    }
                    if (k == 1) released = er.released();
                }
                assertArrayEquals(out[0], out[1], 0, name + ": the output with EarlyRelease");
                assertTrue(released > 0, name + ": nothing was freed early");
                assertTrue(peak[1] < peak[0], name + ": peak " + peak[1] + " bytes with EarlyRelease, " + peak[0] + " without");
            }
        }
    }

    /** conv, bn, relu, then a residual sum that reads the batch norm's output again (which EarlyRelease freed after the ReLU) */
    static final class ReadsAgain extends Module {
        final Conv2d conv1, conv2;
        final BatchNorm bn;
        final Linear fc;

        ReadsAgain(long seed) {
            Init init = new Init(seed);
            conv1 = registerModule("conv1", new Conv2d(3, 4, 3, 1, 1, false, init));
            bn = registerModule("bn", new BatchNorm(4));
            conv2 = registerModule("conv2", new Conv2d(4, 4, 3, 1, 1, false, init));
            fc = registerModule("fc", new Linear(4 * 6 * 6, 5, false, init));
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            Tensor h = bn.forward(conv1.forward(x, it), it);
            Tensor y = it.add(conv2.forward(it.relu(h), it), h); // h read again after its ReLU
            return fc.forward(it.flatten(it.relu(y), 1), it);
        }
    }

    @Test void aModelThatReadsAFreedTensorAgainIsScoredAsWithNothingFreedEarly() {
        try (ReadsAgain m = new ReadsAgain(3); Tensor x = TinyModels.randomInputs(5, 7, 3, 6, 6)) {
            m.eval();
            try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) { // the wrapper alone fails loudly
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.forward(x, new EarlyRelease(Interpreter.STANDARD)));
                assertTrue(e.getMessage().contains("closed") || e.getMessage().contains("freed"), e.getMessage());
            }
            ScoringData data = new ScoringData(x, new int[] {0, 1, 2, 3, 4, 0, 1}, 5, 1, 3); // 3 chunks: 3, 3, 1
            Masks masks = Masks.ones(m);
            for (DType precision : List.of(DType.F32, DType.F64))
                try (MemoryScope s = MemoryScope.open()) {
                    Map<String, Tensor> early = new PxScorer(false, precision).score(m, masks, data);
                    // any trace turns early freeing off: the reference
                    Map<String, Tensor> kept = new PxScorer(false, precision).score(m, masks, data.withTrace(new Trace() {}));
                    assertEquals(kept.keySet(), early.keySet());
                    for (String l : kept.keySet()) {
                        double[] a = kept.get(l).toDoubleArray(), b = early.get(l).toDoubleArray();
                        for (int i = 0; i < a.length; i++)
                            assertEquals(Double.doubleToRawLongBits(a[i]), Double.doubleToRawLongBits(b[i]), precision + " " + l + "[" + i + "]");
                    }
                }
        }
    }

    /** on a model it fits, scores with early freeing are those without, bit for bit (ResNet-20, both precisions) */
    @Test void scoresAreTheSameBitsWithAndWithoutEarlyFreeing() {
        try (Module m = ModelRegistry.create("resnet20", 3, 10, 32, 1); Tensor x = TinyModels.randomInputs(9, 6, 3, 32, 32)) {
            ScoringData data = new ScoringData(x, new int[] {0, 1, 2, 3, 4, 5}, 10, 1, 4);
            Masks masks = Masks.ones(m);
            for (DType precision : List.of(DType.F32, DType.F64))
                try (MemoryScope s = MemoryScope.open()) {
                    Map<String, Tensor> early = new PxScorer(false, precision).score(m, masks, data);
                    Map<String, Tensor> kept = new PxScorer(false, precision).score(m, masks, data.withTrace(new Trace() {}));
                    for (String l : kept.keySet())
                        assertArrayEquals(kept.get(l).toDoubleArray(), early.get(l).toDoubleArray(), 0, precision + " " + l);
                }
        }
    }
}
