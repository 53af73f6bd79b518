package pxprune.px;

import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;

class TmpPxTimingTest {
    @Test void time() {
        try (Module model = ModelRegistry.create("resnet20", 3, 10, 32, 1); MemoryScope s = MemoryScope.open()) {
            model.eval();
            Tensor x = TinyModels.randomInputs(1, 100, 3, 32, 32);
            int[] y = new int[100];
            for (int i = 0; i < 100; i++) y[i] = i % 10;
            ScoringData data = new ScoringData(x, y, 10, 1);
            Pruner.run(model, new PxScorer(false, DType.F32), data, new Pruner.Config(0.5, 2), null, null);
            Pruner.run(model, new PxScorer(false, DType.F64), data, new Pruner.Config(0.5, 2), null, null);
            for (DType p : new DType[] {DType.F64, DType.F32, DType.F64, DType.F32}) {
                long t0 = System.nanoTime();
                Masks m = Pruner.run(model, new PxScorer(false, p), data, new Pruner.Config(0.018, 100), null, null).masks();
                System.out.printf("TIMING px 100 rounds %s: %.2f s (density %.4f)%n", p, (System.nanoTime() - t0) / 1e9, m.density());
            }
            for (DType p : new DType[] {DType.F32, DType.F64}) {
                long t0 = System.nanoTime();
                for (int i = 0; i < 10; i++) new PxScorer(false, p).score(model, Masks.ones(model), data);
                System.out.printf("TIMING px one score (dense) %s: %.3f s%n", p, (System.nanoTime() - t0) / 1e10);
            }
        }
    }
}
