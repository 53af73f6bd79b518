package pxprune.px;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.methods.ScorerRegistry;

/** Every scorer, and the pruning loop, frees all the native memory it allocates. */
public class NativeMemoryTest {
    /**
     * JavaCPP's native byte count once the garbage collector has freed what earlier tests in this
     * JVM left unreachable (JavaCPP frees such buffers when their Pointer is collected, at any
     * moment, which moved the count by 8 bytes in the middle of a measurement once): the count
     * unchanged over three collections. Only the baseline settles; the count after the code under
     * test is read at once, so code that relied on the collector would still show as a leak.
     */
    public static long settled() {
        long last = Pointer.totalBytes();
        for (int same = 0, i = 0; same < 3 && i < 100; i++) {
            System.gc();
            try { Thread.sleep(20); } catch (InterruptedException e) { Thread.currentThread().interrupt(); break; }
            long now = Pointer.totalBytes();
            same = now == last ? same + 1 : 0;
            last = now;
        }
        return last;
    }

    @Test void scorersAndPrunerFreeWhatTheyAllocate() {
        float[] v = new float[40 * 64];
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextDouble();
        int[] y = new int[40];
        for (int i = 0; i < y.length; i++) y[i] = i % 10;
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, 1); Tensor x = Tensor.of(v, 40, 1, 8, 8)) {
            ScoringData d = new ScoringData(x, y, 10, 1);
            for (String method : ScorerRegistry.names()) {
                Masks masks = Masks.ones(m);
                try (MemoryScope s = MemoryScope.open()) { ScorerRegistry.create(method).score(m, masks, d); } // warm up
                long before = settled();
                long during;
                try (MemoryScope s = MemoryScope.open()) {
                    ScorerRegistry.create(method).score(m, masks, d);
                    during = Pointer.totalBytes();
                }
                assertTrue(during > before, method + ": the scores themselves are native tensors, so the counter must move");
                for (int i = 0; i < 3; i++)
                    try (MemoryScope s = MemoryScope.open()) { ScorerRegistry.create(method).score(m, masks, d); }
                Pruner.run(m, ScorerRegistry.create(method), d, new Pruner.Config(0.5, 2), null, null);
                assertEquals(before, Pointer.totalBytes(), method + ": native bytes after scoring and pruning");
            }
        }
    }
}
