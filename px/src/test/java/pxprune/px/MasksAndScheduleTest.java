package pxprune.px;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.MemoryScope;
import pxprune.core.io.SafeTensors;
import pxprune.px.methods.ScorerRegistry;

class MasksAndScheduleTest {
    @TempDir Path dir;

    @Test void saveAndLoadRoundTrip() throws Exception {
        try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Cnn(1, true, true)) {
            Masks m = TinyModels.randomMasks(model, 0.4, 7);
            Path f = dir.resolve("m.safetensors");
            m.save(f, "px", 100, 42);
            Masks back = Masks.load(f, model);
            assertEquals(m.names(), back.names());
            for (String n : m.names()) {
                assertArrayEquals(m.values(n), back.values(n));
                assertArrayEquals(m.shape(n), back.shape(n));
            }
            assertEquals("px", back.metadata().get("method"));
            assertEquals("100", back.metadata().get("rounds"));
            assertEquals("42", back.metadata().get("seed"));
            assertEquals(m.density(), Double.parseDouble(back.metadata().get("density")), 1e-15);
            SafeTensors.File raw = SafeTensors.read(f);
            assertEquals("U8", raw.get("conv1.weight").dtype());
            // F32 entries load too
            Map<String, SafeTensors.Entry> e = new LinkedHashMap<>();
            for (String n : m.names()) {
                long[] sh = java.util.Arrays.stream(m.shape(n)).asLongStream().toArray();
                e.put(n, SafeTensors.Entry.of(m.values(n), sh));
            }
            Path f32 = dir.resolve("f32.safetensors");
            SafeTensors.write(f32, e, Map.of("method", "x"));
            assertEquals(m.kept(), Masks.load(f32, model).kept());
            // a mask for another model is refused, naming what is wrong
            try (var other = new TinyModels.Mlp(1, 3, 4, 2)) {
                var ex = assertThrows(IllegalArgumentException.class, () -> Masks.load(f, other));
                assertTrue(ex.getMessage().contains("fc0.weight"), ex.getMessage());
            }
        }
    }

    @Test void applyMultipliesTheWeightsAndDensitiesCount() {
        try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Mlp(2, 3, 4, 2)) {
            Masks m = TinyModels.randomMasks(model, 0.5, 3);
            float[] before = model.fc[0].weight().toFloatArray();
            m.apply(model);
            float[] after = model.fc[0].weight().toFloatArray(), mask = m.values("fc0.weight");
            for (int i = 0; i < before.length; i++) assertEquals(before[i] * mask[i], after[i]);
            long kept = m.kept("fc0.weight") + m.kept("fc1.weight");
            assertEquals(kept, m.kept());
            assertEquals((double) kept / 20, m.density(), 1e-15);
            assertEquals((double) m.kept("fc1.weight") / 8, m.density("fc1.weight"), 1e-15);
        }
    }

    @Test void masksHoldOnlyZerosAndOnes() {
        assertThrows(IllegalArgumentException.class,
                () -> Masks.of(Map.of("w", new float[] {0.5f}), Map.of("w", new int[] {1})));
    }

    @Test void schedules() {
        double d = 0.018;
        for (int r = 0; r < 100; r++)
            assertEquals(Math.pow(d, (r + 1) / 100.0), Schedule.EXPONENTIAL.density(r, 100, d), 1e-15);
        assertEquals(d, Schedule.EXPONENTIAL.density(99, 100, d));
        assertEquals(1 - (1 - 0.2) * 0.5, Schedule.LINEAR.density(4, 10, 0.2), 1e-15);
        assertEquals(0.2, Schedule.LINEAR.density(9, 10, 0.2));
        assertEquals(Schedule.LINEAR, Schedule.parse("linear"));
        var e = assertThrows(IllegalArgumentException.class, () -> Schedule.parse("cosine"));
        assertTrue(e.getMessage().contains("exponential"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Schedule.EXPONENTIAL.density(0, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> Schedule.EXPONENTIAL.density(10, 10, 0.5));
    }

    @Test void registryListsValidNames() {
        for (String n : ScorerRegistry.names()) assertEquals(n, ScorerRegistry.create(n).name());
        var e = assertThrows(IllegalArgumentException.class, () -> ScorerRegistry.create("pxx"));
        assertTrue(e.getMessage().contains("px, px_datafree, random, magnitude, snip, grasp, synflow, synflow_l2"), e.getMessage());
    }
}
