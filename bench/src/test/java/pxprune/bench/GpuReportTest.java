package pxprune.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.io.Json;

/** GpuReport over hand-written part files: the ratios, the verdicts, and what a missing or failed part reports. */
class GpuReportTest {
    static final String MACHINE = "{\"date\": \"2026-12-01T00:00:00Z\", \"gpu\": \"NVIDIA H200\", \"driver\": \"580.1\", "
            + "\"memory\": \"143771 MiB\", \"cpu\": \"x\", \"command\": \"run.sh /out\", \"smoke\": false}";
    static final String SIZES = "{\"resnet20_batch\": 128, \"px_rounds\": 100, \"px_density\": 0.01}";

    static String row(String key, String unit, Double value, String note) {
        return "{\"key\": \"" + key + "\", \"unit\": \"" + unit + "\", \"what\": \"" + key + "\", \"status\": \""
                + (value == null ? "not available" : "ok") + "\", \"value\": " + value + ", \"note\": \"" + note + "\"}";
    }

    static void tests(Path dir, String module, int passed, int failed, boolean finished) throws IOException {
        StringBuilder t = new StringBuilder("[");
        for (int i = 0; i < passed + failed; i++)
            t.append(i == 0 ? "" : ",").append("{\"name\": \"T.t").append(i).append("\", \"status\": \"")
                    .append(i < passed ? "passed" : "failed").append("\", \"ms\": 1, \"message\": \"")
                    .append(i < passed ? "" : "AssertionError: off by 1e-3").append("\"}");
        t.append("]");
        Files.writeString(dir.resolve("tests-" + module + ".json"), "{\"module\": \"" + module + "\", \"finished\": " + finished
                + ", \"counts\": {\"passed\": " + passed + ", \"failed\": " + failed + ", \"aborted\": 0, \"skipped\": 0}, \"tests\": " + t + "}");
    }

    static void ours(Path dir) throws IOException {
        Files.writeString(dir.resolve("pxprune.json"), "{\"side\": \"pxprune\", \"finished\": true, \"meta\": {\"java\": \"17\", "
                + "\"cuda\": \"H200\", \"sizes\": " + SIZES + "}, \"rows\": [" + String.join(",", List.of(
                row("resnet20_fwd_bwd", "ms", 12.0, "median of 5"), row("resnet50_fwd_bwd", "ms", 30.0, ""),
                row("px_gpu", "ms", 400.0, ""), row("px_cpu", "ms", 10000.0, "scaled"),
                row("train_epoch", "images/s", 8000.0, ""))) + "]}");
    }

    static void torch(Path dir) throws IOException {
        Files.writeString(dir.resolve("pytorch.json"), "{\"side\": \"pytorch\", \"torch\": \"2.9\", \"device\": \"NVIDIA H200\", "
                + "\"python\": \"3.12\", \"finished\": true, \"sizes\": " + SIZES + ", \"rows\": [" + String.join(",", List.of(
                row("resnet20_fwd_bwd", "ms", 10.0, ""), row("resnet50_fwd_bwd", "ms", 20.0, ""),
                row("px", "ms", 1000.0, ""), row("train_epoch", "images/s", 10000.0, ""))) + "]}");
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> compared(Path dir, int i) throws IOException {
        Map<String, Object> r = Json.parseObject(Files.readString(dir.resolve("results.json")));
        return (Map<String, Object>) ((List<Object>) r.get("compared")).get(i);
    }

    static int report(Path dir) throws IOException {
        return GpuReport.write(dir, new PrintStream(new ByteArrayOutputStream()));
    }

    @Test void ratiosAndVerdicts(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("machine.json"), MACHINE);
        tests(dir, "kernels-cuda", 3, 0, true);
        ours(dir);
        torch(dir);
        assertEquals(0, report(dir));
        String md = Files.readString(dir.resolve("results.md"));
        assertTrue(md.contains("NVIDIA H200, driver 580.1"), md);
        assertTrue(md.contains("3 passed, 0 failed"), md);
        // pxprune / PyTorch time: 12 / 10 = 1.2 <= 1.2 met; 30 / 20 = 1.5 missed
        assertEquals(1.2, (Double) compared(dir, 0).get("ratio"), 1e-12);
        assertEquals("met", compared(dir, 0).get("met"));
        assertEquals("missed", compared(dir, 1).get("met"));
        // PX: 400 / 1000 = 0.4 <= 0.5; CPU / GPU = 25 >= 20; images/s 8000 / 10000 = 0.8 >= 0.8
        assertEquals(0.4, (Double) compared(dir, 2).get("ratio"), 1e-12);
        assertEquals(25.0, (Double) compared(dir, 3).get("ratio"), 1e-12);
        assertEquals("met", compared(dir, 3).get("met"));
        assertEquals(0.8, (Double) compared(dir, 4).get("ratio"), 1e-12);
        assertEquals("met", compared(dir, 4).get("met"));
        assertTrue(md.contains("| <= 1.2x | met"), md);
        assertTrue(md.contains(">= 20x faster"), md);
    }

    @Test void aFailedTestOrAnUnfinishedModuleFailsTheRun(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("machine.json"), MACHINE);
        tests(dir, "kernels-cuda", 2, 1, true);
        assertEquals(1, report(dir));
        assertTrue(Files.readString(dir.resolve("results.md")).contains("FAILED kernels-cuda T.t2: AssertionError: off by 1e-3"));

        tests(dir, "kernels-cuda", 3, 0, true);
        tests(dir, "px", 1, 0, false); // killed by its time limit mid-way
        Files.writeString(dir.resolve("part-tests-px.rc"), "124\n");
        assertEquals(1, report(dir));
        assertTrue(Files.readString(dir.resolve("results.md")).contains("px: did not finish (killed by its time limit)"));
    }

    @Test void anAbortedTestIsSkippedNotFailed(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tests-kernels-cuda.json"), "{\"module\": \"kernels-cuda\", \"finished\": true, \"counts\": "
                + "{\"passed\": 2, \"failed\": 0, \"aborted\": 1, \"skipped\": 0}, \"tests\": [{\"name\": \"E.emulatorOnly\", "
                + "\"status\": \"aborted\", \"ms\": 1, \"message\": \"Assumption failed: these check the CUDA emulator\"}]}");
        assertEquals(0, report(dir));
        assertTrue(Files.readString(dir.resolve("results.md")).contains("2 passed, 0 failed, 1 skipped"));
    }

    @Test void missingPartsSayWhy(@TempDir Path dir) throws IOException {
        // no machine.json, no pytorch.json (its part hit the time limit), no test files at all
        ours(dir);
        Files.writeString(dir.resolve("part-pytorch.rc"), "124");
        assertEquals(1, report(dir));
        String md = Files.readString(dir.resolve("results.md"));
        assertTrue(md.contains("pytorch.json missing (exit status 124: time limit)"), md);
        assertTrue(md.contains("no test results"), md);
        // the CPU comparison needs no PyTorch: still measured
        assertEquals("met", compared(dir, 3).get("met"));
    }

    @Test void differentSizesOnTheTwoSidesAreReported(@TempDir Path dir) throws IOException {
        tests(dir, "kernels-cuda", 1, 0, true);
        ours(dir);
        torch(dir);
        Files.writeString(dir.resolve("pytorch.json"), Files.readString(dir.resolve("pytorch.json")).replace("\"resnet20_batch\": 128", "\"resnet20_batch\": 64"));
        assertEquals(0, report(dir));
        assertTrue(Files.readString(dir.resolve("results.md")).contains("The two sides ran different sizes**: resnet20_batch 128 (pxprune) vs 64 (PyTorch)"));
    }
}
