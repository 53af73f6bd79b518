package pxprune.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.io.Json;
import pxprune.experiments.train.RunConfig;
import pxprune.experiments.train.Runner;

/**
 * The options of {@code run} on one config: --set changes the config (its keys, so its hash and folder, and what the
 * run does: epochs=1 trains one epoch, epochs=0 none), --runs is where the folder goes, --device cpu is the default
 * (the same folder, found done). (The jobs' --set and --runs: SegRunTest; bad --set and --device values: MainTest,
 * DeviceOptionTest; --device cuda: CudaTrainingTest.)
 */
class RunOptionsTest {
    static final String CONFIG = "{\"recipe\": \"digits\", \"method\": \"random\", \"density\": 0.5, \"rounds\": 1, \"epochs\": 0}";

    static List<Path> folders(Path runs) throws Exception {
        try (Stream<Path> s = Files.list(runs)) {
            return s.filter(Files::isDirectory).sorted().toList();
        }
    }

    @Test void setRunsAndDevice(@TempDir Path tmp) throws Exception {
        Path cfg = Files.writeString(tmp.resolve("c.json"), CONFIG);
        RunConfig base = Main.loadConfig(cfg.toString()), trained = base.withSets(List.of("epochs=1", "seed=3"));
        Path runs = tmp.resolve("elsewhere").resolve("runs");

        MainTest.Result r = MainTest.run("run", cfg.toString(), "--set", "epochs=1", "--set", "seed=3", "--runs", runs.toString());
        assertEquals(0, r.code(), r.err());
        Path dir = runs.resolve(trained.hash());
        assertEquals(List.of(dir), folders(runs), "one run folder, under --runs, named by the changed config's hash");
        assertTrue(r.out().contains("run folder: " + dir), r.out());
        assertEquals(trained, RunConfig.parse(Files.readString(dir.resolve(Runner.CONFIG))));
        assertEquals(1, Files.readAllLines(dir.resolve("metrics.jsonl")).size(), "--set epochs=1: one epoch trained");
        Map<String, Object> s = Json.parseObject(Files.readString(dir.resolve(Runner.SUMMARY)));
        assertEquals(3, ((Number) s.get("seed")).intValue());
        assertTrue(s.get("train_acc") instanceof Number, "trained: " + s);

        // the config as written (epochs 0): another folder, pruned and evaluated, not trained
        r = MainTest.run("run", cfg.toString(), "--runs", runs.toString());
        assertEquals(0, r.code(), r.err());
        Path untrained = runs.resolve(base.hash());
        assertEquals(2, folders(runs).size());
        assertEquals(null, Json.parseObject(Files.readString(untrained.resolve(Runner.SUMMARY))).get("train_acc"));

        // --device cpu is the default: the same config, so the same folder, reported done
        r = MainTest.run("run", cfg.toString(), "--set", "epochs=1", "--set", "seed=3", "--runs", runs.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("done (earlier):") && r.out().contains("run folder: " + dir), r.out());
        assertEquals(2, folders(runs).size());
    }
}
