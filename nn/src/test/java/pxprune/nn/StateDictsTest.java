package pxprune.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;

class StateDictsTest {
    @TempDir Path dir;

    private static float[] evalForward(Module m, Tensor x) {
        m.eval();
        try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
            return m.forward(x).toFloatArray();
        }
    }

    @Test void roundTripGivesIdenticalOutputs() throws Exception {
        Path f = dir.resolve("resnet20.safetensors");
        try (Module a = ModelRegistry.create("resnet20", 3, 10, 16, 1);
             Module b = ModelRegistry.create("resnet20", 3, 10, 16, 2);
             MemoryScope s = MemoryScope.open()) {
            Tensor x = TestSupport.randn(11, 4, 3, 16, 16);
            try (MemoryScope s2 = MemoryScope.open()) { a.forward(x); } // train step: non-trivial running statistics
            a.saveStateDict(f);
            float[] ya = evalForward(a, x);
            assertFalse(java.util.Arrays.equals(ya, evalForward(b, x)), "different seeds give different models");
            b.loadStateDict(f);
            assertArrayEquals(ya, evalForward(b, x));
            assertEquals(1, (int) b.stateDict().get("blocks.4.bn2.num_batches_tracked").item());

            SafeTensors.File file = SafeTensors.read(f);
            assertEquals(List.copyOf(a.stateDict().keySet()), List.copyOf(file.entries().keySet()), "PyTorch state_dict order");
            SafeTensors.Entry nbt = file.get("bn.num_batches_tracked");
            assertEquals("I64", nbt.dtype());
            assertEquals(0, nbt.shape().length);
            assertEquals("F32", file.get("conv.weight").dtype());
        }
    }

    @Test void loadsFloat64IntoFloat32() throws Exception {
        Path f = dir.resolve("f64.safetensors");
        try (Module a = ModelRegistry.create("resnet20", 1, 3, 8, 1); Module b = ModelRegistry.create("resnet20", 1, 3, 8, 2);
             MemoryScope s = MemoryScope.open()) {
            Map<String, SafeTensors.Entry> e = new LinkedHashMap<>();
            a.stateDict().forEach((k, t) -> e.put(k, t.dtype() == pxprune.kernels.DType.F32
                    ? SafeTensors.Entry.of(t.toDoubleArray(), java.util.Arrays.stream(t.shape()).asLongStream().toArray())
                    : SafeTensors.Entry.ofLongs(new long[] {0}, 1)));
            SafeTensors.write(f, e, null);
            b.loadStateDict(f);
            Tensor x = TestSupport.randn(3, 2, 1, 8, 8);
            assertArrayEquals(evalForward(a, x), evalForward(b, x));
        }
    }

    @Test void mismatchNamesEveryProblemAndLoadsNothing() throws Exception {
        Path f = dir.resolve("bad.safetensors");
        try (Module a = ModelRegistry.create("resnet20", 3, 10, 32, 1); Module b = ModelRegistry.create("resnet20", 3, 10, 32, 2)) {
            Map<String, SafeTensors.Entry> e = new LinkedHashMap<>(StateDicts.entries(a));
            e.remove("fc.bias");
            e.put("extra.weight", SafeTensors.Entry.of(new float[] {1, 2}, 2));
            e.put("conv.weight", SafeTensors.Entry.of(new float[16 * 3 * 5 * 5], 16, 3, 5, 5));
            SafeTensors.write(f, e, null);
            Map<String, float[]> before = new LinkedHashMap<>();
            b.namedParameters().forEach((k, t) -> before.put(k, t.toFloatArray()));
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(f));
            String msg = ex.getMessage();
            assertTrue(msg.contains("missing") && msg.contains("fc.bias"), msg);
            assertTrue(msg.contains("unexpected") && msg.contains("extra.weight"), msg);
            assertTrue(msg.contains("mis-shaped") && msg.contains("conv.weight") && msg.contains("[16, 3, 5, 5]")
                    && msg.contains("[16, 3, 3, 3]"), msg);
            b.namedParameters().forEach((k, t) -> assertArrayEquals(before.get(k), t.toFloatArray(), k + " unchanged"));
        }
    }

    @Test void loadsFromAnotherModelInMemory() {
        try (Module a = ModelRegistry.create("vgg11_bn", 3, 10, 16, 1); Module b = ModelRegistry.create("vgg11_bn", 3, 10, 16, 2);
             Module c = ModelRegistry.create("vgg11", 3, 10, 16, 2); MemoryScope s = MemoryScope.open()) {
            StateDicts.load(b, a.stateDict());
            Tensor x = TestSupport.randn(5, 2, 3, 16, 16);
            assertArrayEquals(evalForward(a, x), evalForward(b, x));
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> StateDicts.load(c, a.stateDict()));
            assertTrue(ex.getMessage().contains("layers.0.bn.weight"), ex.getMessage());
        }
    }
}
