package pxprune.sweepspark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.experiments.cli.Main;

/**
 * A tiny digits grid (synflow and random x 2 seeds, 3 rounds, 1 epoch) run embedded and on embedded Spark
 * local[2] gives the same table (all but the seconds): the same runs, densities and accuracies.
 */
class SparkSweepTest {
    static final String GRID = "{\"name\": \"tiny\", \"base\": {\"recipe\": \"digits\", \"rounds\": 3, \"epochs\": 1},"
            + " \"grid\": {\"method\": [\"synflow\", \"random\"], \"density\": [0.1], \"seed\": [1, 2]}}";

    record Result(int code, String out, String err) {}

    static Result main(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    /** results.csv without the seconds */
    static List<List<String>> table(Path csv) throws Exception {
        List<String> lines = Files.readString(csv).lines().toList();
        List<String> head = List.of(lines.get(0).split(","));
        List<List<String>> out = new ArrayList<>();
        for (String l : lines) {
            List<String> cells = List.of(l.split(",", -1));
            List<String> keep = new ArrayList<>();
            for (int i = 0; i < head.size(); i++) if (!head.get(i).endsWith("_seconds")) keep.add(cells.get(i));
            out.add(keep);
        }
        return out;
    }

    @Test
    void embeddedAndSparkLocalGiveTheSameTable(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("tiny.json");
        Files.writeString(file, GRID);
        Path runsE = tmp.resolve("embedded"), runsS = tmp.resolve("spark");
        Result e = main("sweep", file.toString(), "--runs", runsE.toString(), "--parallel", "2", "--threads", "1");
        assertEquals(0, e.code(), e.err());
        Result s = main("sweep", file.toString(), "--runs", runsS.toString(), "--spark", "local[2]", "--threads", "1");
        assertEquals(0, s.code(), s.err());
        assertTrue(s.err().contains("on spark local[2], 2 run(s) at once"), s.err());

        List<List<String>> te = table(runsE.resolve("sweeps/tiny/results.csv")), ts = table(runsS.resolve("sweeps/tiny/results.csv"));
        assertEquals(5, te.size());
        for (List<String> row : te.subList(1, 5)) assertEquals("done", row.get(5), row.toString());
        assertEquals(te, ts);
        assertTrue(s.out().contains("| 1 | synflow | 0.1 | 1 |"), s.out());
        // the run folders are the same bytes where it matters: the masks
        for (List<String> row : te.subList(1, 5)) {
            String hash = row.get(4);
            assertTrue(java.util.Arrays.equals(Files.readAllBytes(runsE.resolve(hash).resolve("masks.safetensors")),
                    Files.readAllBytes(runsS.resolve(hash).resolve("masks.safetensors"))), hash);
        }
    }

    @Test
    void aClusterMasterWithoutSparkSubmitIsRefusedWithTheFix(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("tiny.json");
        Files.writeString(file, GRID);
        Result r = main("sweep", file.toString(), "--runs", tmp.resolve("runs").toString(), "--spark", "spark://127.0.0.1:7077");
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("the executors need pxprune's classes") && r.err().contains("spark-submit"), r.err());
    }
}
