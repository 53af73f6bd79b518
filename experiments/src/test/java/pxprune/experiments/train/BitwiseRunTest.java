package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.io.Json;

/**
 * The same config run by two separate JVMs (same seed, one CPU thread each) leaves byte-identical
 * result files: every safetensors file (masks, checkpoint, weights), the pruning split, the
 * per-layer table, the config and the plot; the summaries, per-round and per-epoch records differ
 * at most in their timing fields. Two processes, because the iteration order of {@code Map.of}
 * (and with it the order of anything written from one) is drawn anew by every JVM.
 */
class BitwiseRunTest {
    static final String CONFIG = "{\"recipe\": \"digits\", \"method\": \"synflow\", \"density\": 0.05, \"rounds\": 4,"
            + " \"epochs\": 1, \"batch_size\": 64}";
    /** compared byte for byte */
    static final Set<String> BITWISE = Set.of(Runner.MASKS, Checkpoint.FILE, Runner.WEIGHTS, Runner.SPLIT, Runner.LAYERS,
            Runner.CONFIG, Runner.ROUNDS_PNG, Runner.LOCK);
    /** JSON files compared without their timing keys */
    static final Set<String> TIMED_JSON = Set.of(Runner.SUMMARY, Runner.PRUNE);
    static final Set<String> TIMING_KEYS = Set.of("seconds", "wall_seconds", "pruning_seconds", "training_seconds");

    @Test
    void twoJvmsWriteIdenticalResultFiles(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("tiny.json");
        Files.writeString(cfg, CONFIG);
        String hash = RunConfig.parse(CONFIG).hash();
        // -Xshare:off: with the default class-data archive every JVM of one JDK draws the same
        // Map.of order; without it each JVM draws its own, as JVMs of other builds do
        List<String> opts = List.of("-Dpxprune.threads=1", "-Xshare:off");
        Path runsA = tmp.resolve("a"), runsB = tmp.resolve("b"), logA = tmp.resolve("a.log"), logB = tmp.resolve("b.log");
        Process a = KillResumeTest.child(opts, cfg, runsA, logA).start();
        Process b = KillResumeTest.child(opts, cfg, runsB, logB).start();
        try {
            assertTrue(a.waitFor(120, TimeUnit.SECONDS), () -> "child a did not finish: " + KillResumeTest.read(logA));
            assertTrue(b.waitFor(120, TimeUnit.SECONDS), () -> "child b did not finish: " + KillResumeTest.read(logB));
        } finally {
            a.destroyForcibly();
            b.destroyForcibly();
        }
        assertEquals(0, a.exitValue(), () -> KillResumeTest.read(logA));
        assertEquals(0, b.exitValue(), () -> KillResumeTest.read(logB));

        Path dirA = runsA.resolve(hash), dirB = runsB.resolve(hash);
        Set<String> namesA = names(dirA), namesB = names(dirB);
        assertEquals(namesA, namesB, "the two run folders hold different files");
        for (String must : List.of(Runner.MASKS, Checkpoint.FILE, Runner.WEIGHTS, Runner.SPLIT, Runner.SUMMARY))
            assertTrue(namesA.contains(must), must + " missing from " + namesA);
        List<String> differ = new ArrayList<>();
        for (String n : namesA) {
            Path fa = dirA.resolve(n), fb = dirB.resolve(n);
            if (BITWISE.contains(n)) {
                if (!Arrays.equals(Files.readAllBytes(fa), Files.readAllBytes(fb))) differ.add(n);
            } else if (TIMED_JSON.contains(n)) {
                if (!untimed(Files.readString(fa)).equals(untimed(Files.readString(fb)))) differ.add(n);
            } else if (n.equals(Trainer.METRICS)) {
                List<String> la = Files.readAllLines(fa), lb = Files.readAllLines(fb);
                if (la.size() != lb.size()) differ.add(n);
                else for (int i = 0; i < la.size(); i++) if (!untimed(la.get(i)).equals(untimed(lb.get(i)))) differ.add(n + " line " + (i + 1));
            } else if (n.equals(Runner.ROUNDS)) {
                if (!withoutColumn(fa, "seconds").equals(withoutColumn(fb, "seconds"))) differ.add(n);
            } else {
                fail("run folder file " + n + " is not classified by this test (bitwise, or which fields may differ); add it");
            }
        }
        assertEquals(List.of(), differ, "files that differ between the two JVMs (compared: " + namesA + ")");

        // the metadata in a fixed, documented order (two JVMs may draw the same hash order by chance)
        assertEquals(List.of("format", "config_hash"), metadataKeys(dirA.resolve(Runner.WEIGHTS)));
        assertEquals(List.of("format", "epoch", "config_hash", "metrics", "rng"), metadataKeys(dirA.resolve(Checkpoint.FILE)));
        assertEquals(List.of("method", "density", "rounds", "seed"), metadataKeys(dirA.resolve(Runner.MASKS)));
    }

    /** the keys of a safetensors file's __metadata__ in the order the file holds them */
    private static List<String> metadataKeys(Path file) throws Exception {
        byte[] b = Files.readAllBytes(file);
        long n = java.nio.ByteBuffer.wrap(b, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        Map<String, Object> header = Json.parseObject(new String(b, 8, Math.toIntExact(n), StandardCharsets.UTF_8));
        @SuppressWarnings("unchecked")
        Map<String, Object> meta = (Map<String, Object>) header.get("__metadata__");
        assertTrue(meta != null, file + " has no __metadata__");
        return List.copyOf(meta.keySet());
    }

    private static Set<String> names(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            Set<String> out = new TreeSet<>();
            s.forEach(p -> out.add(p.getFileName().toString()));
            return out;
        }
    }

    private static Map<String, Object> untimed(String json) {
        Map<String, Object> m = Json.parseObject(json);
        m.keySet().removeAll(TIMING_KEYS);
        return m;
    }

    /** the CSV's lines with the named column left out */
    private static List<String> withoutColumn(Path csv, String column) throws Exception {
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        int col = Arrays.asList(lines.get(0).split(",", -1)).indexOf(column);
        assertTrue(col >= 0, csv + " has no column " + column);
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            List<String> f = new ArrayList<>(Arrays.asList(l.split(",", -1)));
            f.remove(col);
            out.add(String.join(",", f));
        }
        return out;
    }
}
