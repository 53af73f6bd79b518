package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.io.Json;
import pxprune.datasets.PruningSplit;
import pxprune.px.Masks;

/** A short run (digits, px, a few rounds, one epoch) through the public entry point, and the main job's rows. */
class EndToEndTest {
    @Test
    void aShortRunProducesEveryFileAndASecondStartReportsDone(@TempDir Path runs) throws Exception {
        RunConfig cfg = Recipes.digits().with(Map.of("epochs", 1L, "rounds", 3L, "density", 0.2, "examples_per_class", 4L));
        Runner.Outcome o = Runner.run(cfg, runs, null);
        assertFalse(o.alreadyDone());
        Path dir = runs.resolve(cfg.hash());
        assertEquals(dir, o.dir());
        for (String f : List.of(Runner.CONFIG, Runner.SPLIT, Runner.MASKS, Runner.LAYERS, Runner.ROUNDS, Runner.PRUNE,
                Trainer.METRICS, Checkpoint.FILE, Runner.WEIGHTS, Runner.SUMMARY))
            assertTrue(Files.isRegularFile(dir.resolve(f)), f + " is missing");
        assertFalse(Files.exists(dir.resolve(".prune-tmp")));

        assertEquals(cfg, RunConfig.parse(Files.readString(dir.resolve(Runner.CONFIG))));
        assertEquals(40, PruningSplit.read(dir.resolve(Runner.SPLIT)).indices().length);
        assertEquals(1 + 3, Files.readAllLines(dir.resolve(Runner.ROUNDS)).size());
        Masks m = Masks.load(dir.resolve(Runner.MASKS));
        assertEquals(m.names().size() + 1, Files.readAllLines(dir.resolve(Runner.LAYERS)).size());
        List<String> metrics = Files.readAllLines(dir.resolve(Trainer.METRICS));
        assertEquals(1, metrics.size());
        Map<String, Object> line = Json.parseObject(metrics.get(0));
        assertEquals(List.of("epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"), List.copyOf(line.keySet()));

        Map<String, Object> s = Json.parseObject(Files.readString(dir.resolve(Runner.SUMMARY), StandardCharsets.UTF_8));
        assertEquals("done", s.get("status"));
        assertEquals(m.density(), ((Number) s.get("density")).doubleValue());
        assertEquals(0.2, m.density(), 1e-4);
        assertEquals(((Number) line.get("test_acc")).doubleValue(), o.testAcc());
        assertTrue(o.pruningSeconds() > 0 && o.trainingSeconds() > 0);

        Runner.Outcome again = Runner.run(cfg, runs, null);
        assertTrue(again.alreadyDone());
        assertEquals(o.testAcc(), again.testAcc());
    }

    @Test
    void aFolderHoldingAnotherConfigIsAnError(@TempDir Path runs) throws Exception {
        RunConfig cfg = Recipes.digits().with("epochs", 0L).with("method", "random");
        Path dir = Files.createDirectories(runs.resolve(cfg.hash()));
        Files.writeString(dir.resolve(Runner.CONFIG), cfg.with("seed", 99L).prettyJson());
        String msg = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> Runner.run(cfg, runs, null))
                .getMessage();
        assertTrue(msg.contains("another config"), msg);
    }

    @Test
    void theMainJobHasItsFourRows() {
        List<RunConfig> rows = MainJob.configs(Recipes.digits());
        assertEquals(List.of("dense", "px", "synflow", "random"), rows.stream().map(RunConfig::method).toList());
        assertEquals(List.of(1.0, 0.01, 0.01, 0.01), rows.stream().map(RunConfig::density).toList());
        assertEquals(List.of(100, 100, 1), rows.subList(1, 4).stream().map(RunConfig::rounds).toList());
        assertEquals(4, rows.stream().map(RunConfig::hash).distinct().count());
        // the table names the folder that --runs gave
        String md = MainJob.markdown(Recipes.digits(), List.of(), java.nio.file.Path.of("elsewhere", "runs"));
        assertTrue(md.contains("(run folders under " + java.nio.file.Path.of("elsewhere", "runs") + "/)"), md);
    }
}
