package pxprune.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;

/** Forward/backward passes inside MemoryScopes free all their native memory. */
class MemoryLeakTest {
    private static void pass(Module m, SGD opt, int seed) {
        try (MemoryScope s = MemoryScope.open()) {
            Tensor x = TestSupport.randn(seed, 4, 1, 8, 8);
            Tensor loss = Ops.crossEntropy(m.forward(x), TestSupport.labels(4, 10));
            opt.zeroGrad();
            loss.backward();
            opt.step();
        }
    }

    @Test void thousandTrainingStepsDoNotGrowNativeMemory() {
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, 1); SGD opt = SGD.of(m, 0.01, 0.9, 1e-4, false)) {
            for (int i = 0; i < 10; i++) pass(m, opt, i);
            long after10 = Pointer.totalBytes();
            // parameters, their gradients and momentum buffers are counted: the measure is live
            assertTrue(after10 >= 3 * 4 * m.parameterCount(), "Pointer.totalBytes() does not track the tensors: " + after10);
            for (int i = 10; i < 1000; i++) pass(m, opt, i);
            long after1000 = Pointer.totalBytes();
            assertTrue(after1000 - after10 <= 4096, "native memory grew by " + (after1000 - after10) + " bytes over 990 passes ("
                    + after10 + " -> " + after1000 + ")");
        }
    }
}
