package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.core.io.Json;
import pxprune.px.Masks;
import pxprune.px.Pruner;
import pxprune.px.methods.ScorerRegistry;
import pxprune.px.ScoringData;
import pxprune.px.TinyModels;

class PruningFilesTest {
    @TempDir Path dir;

    @Test void aPruningResultIsWritten() throws Exception {
        try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Cnn(3, true, false)) {
            Tensor x = TinyModels.randomInputs(5, 8, 1, 4, 4);
            Pruner.Result r = Pruner.run(model, ScorerRegistry.create("px"), new ScoringData(x, new int[8], 2, 1),
                    new Pruner.Config(0.2, 5), null, null);
            PruningFiles.write(r, dir);
            List<String> rounds = Files.readAllLines(dir.resolve("rounds.csv"));
            String header = "round,target_density,density,connected,seconds";
            for (String name : r.masks().names()) header += ",density:" + name;
            assertEquals(header, rounds.get(0));
            assertEquals(6, rounds.size());
            // the last round's per-layer columns are the final masks' layer densities
            String[] last = rounds.get(5).split(",");
            List<String> names = List.copyOf(r.masks().names());
            for (int i = 0; i < names.size(); i++)
                assertEquals(r.masks().density(names.get(i)), Double.parseDouble(last[5 + i]), 1e-9, names.get(i));
            java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(dir.resolve("rounds.png").toFile());
            assertEquals(900, png.getWidth());
            assertEquals(560, png.getHeight());
            List<String> layers = Files.readAllLines(dir.resolve("layers.csv"));
            assertEquals("layer,shape,numel,kept,density", layers.get(0));
            assertTrue(layers.get(2).startsWith("conv2.weight,3x2x3x3,54,"), layers.get(2));
            Map<String, Object> summary = Json.parseObject(Files.readString(dir.resolve("summary.json")));
            assertEquals("px", summary.get("method"));
            assertEquals(r.masks().kept(), ((Number) summary.get("kept")).longValue());
            Masks back = Masks.load(dir.resolve("masks.safetensors"), model);
            assertArrayEquals(r.masks().values("fc.weight"), back.values("fc.weight"));
            assertEquals("5", back.metadata().get("rounds"));
        }
    }
}
