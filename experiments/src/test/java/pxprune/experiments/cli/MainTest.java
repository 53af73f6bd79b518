package pxprune.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import pxprune.core.io.SafeTensors;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.StateDicts;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;

/** The command line in-process; {@link #run} is the px tests' one way to call it and capture its output. */
public class MainTest {
    public record Result(int code, String out, String err) {}

    public static Result run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    static final String PRUNE = "prune --model resnet20 --dataset digits --method random --density 0.1 --rounds 2 --out ";

    static List<Object[]> badArguments() {
        String p = PRUNE + "/tmp/pxprune-never-written";
        return List.of(
                new Object[] {"", "no command"},
                new Object[] {"frobnicate", "unknown command"},
                new Object[] {"list --verbose", "unknown option --verbose"},
                new Object[] {p + " --colour red", "unknown option --colour"},
                new Object[] {p.replace("--density 0.1", "--density abc"), "not a number"},
                new Object[] {p.replace("--density 0.1", "--density 1.5"), "outside (0, 1]"},
                new Object[] {p.replace("--density 0.1", "--density 0"), "outside (0, 1]"},
                new Object[] {p.replace("--density 0.1", "--density -0.5"), "outside (0, 1]"},
                new Object[] {p.replace("--rounds 2", "--rounds two"), "not an integer"},
                new Object[] {p.replace("--rounds 2", "--rounds 0"), "outside 1..100000"},
                new Object[] {p.replace("resnet20", "resnet21"), "unknown model 'resnet21'"},
                new Object[] {p.replace("random", "magic"), "unknown method 'magic'"},
                new Object[] {p.replace("digits", "emnist"), "unknown dataset 'emnist'"},
                new Object[] {p.replace("digits", "seg_demo"), "--dataset seg_demo is a segmentation set; prune takes a classification set"},
                new Object[] {"explain --model resnet20 --dataset seg_demo", "explain takes a classification set (digits, "},
                new Object[] {"ntk --model resnet20 --dataset voc2012", "ntk takes a classification set"},
                new Object[] {p.replace("--model resnet20 ", ""), "needs --model"},
                new Object[] {p + " --seed x", "not an integer"},
                new Object[] {p + " --rounds 3", "given twice"},
                new Object[] {p.replace("digits", "cifar10") + " --data-root /nonexistent-pxprune", "cifar"},
                new Object[] {"score --model resnet20 --weights /nonexistent/W.safetensors --batch /nonexistent/B.safetensors --method px --out O.safetensors",
                        "no such file"},
                new Object[] {"run /nonexistent/cfg.json", "neither an existing file nor a recipe"},
                new Object[] {"run digits --set epochz=3", "unknown config key 'epochz'"},
                new Object[] {"run digits --set epochs=ten", "'epochs': expected an integer"},
                new Object[] {"run digits --set density=2", "'density'"},
                new Object[] {"run --set method=px", "main job sets method"},
                new Object[] {"run digits extra", "unexpected argument 'extra'"});
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("badArguments")
    void badArgumentsGiveOneLineAndExitCode2(String args, String expected) {
        Result r = run(args.isEmpty() ? new String[0] : args.split(" "));
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), "not one line: " + r.err());
        assertTrue(r.err().startsWith("pxprune: "), r.err());
        assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), "stack trace or exception name: " + r.err());
    }

    @Test
    void badConfigFileNamesTheKey(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("c.json");
        Files.writeString(cfg, "{\"recipe\": \"digits\", \"lr\": \"fast\"}");
        Result r = run("run", cfg.toString(), "--runs", tmp.resolve("runs").toString());
        assertEquals(2, r.code());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("'lr'") && r.err().contains("a number") && r.err().contains("c.json"), r.err());
        assertFalse(Files.exists(tmp.resolve("runs")));
    }

    @Test
    void listAndHelpSucceed() {
        Result l = run("list");
        assertEquals(0, l.code());
        assertTrue(l.out().contains("resnet20") && l.out().contains("digits") && l.out().contains("synflow")
                && l.out().contains("cifar10_resnet20") && l.out().contains("fashion_mnist_resnet20"), l.out());
        Result d = run("list", "--data-root", "no-such-folder");
        assertEquals(0, d.code(), d.err());
        assertTrue(d.out().contains("data (data_root no-such-folder):") && d.out().contains("kmnist         missing; Fix: download")
                && d.out().contains("no-such-folder/kmnist/"), d.out());
        Result h = run("help");
        assertEquals(0, h.code());
        assertTrue(h.out().contains("usage: pxprune") && h.out().contains("--examples-per-class"), h.out());
        assertEquals("", h.err());
    }

    @Test
    void pruneWritesItsFiles(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("p");
        Result r = run((PRUNE + out + " --seed 3 --examples-per-class 5 --per-layer").split(" "));
        assertEquals(0, r.code(), r.err());
        for (String f : List.of("masks.safetensors", "rounds.csv", "rounds.png", "layers.csv", "summary.json", "split.csv"))
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing");
        assertEquals(1 + 50, Files.readAllLines(out.resolve("split.csv")).size());
        Masks m = Masks.load(out.resolve("masks.safetensors"));
        // per layer, the last round keeps exactly n_keep = N - floor((1 - d) N) of each layer's N weights
        for (String n : m.names()) {
            long numel = m.numel(n);
            assertEquals(numel - (long) Math.floor((1 - 0.1) * numel), m.kept(n), n);
        }
    }

    @Test
    void scoreWritesOneTensorPerPrunableWeight(@TempDir Path tmp) throws Exception {
        Path w = tmp.resolve("W.safetensors"), b = tmp.resolve("B.safetensors"), o = tmp.resolve("O.safetensors");
        List<PrunableLayer> layers;
        try (Module m = ModelRegistry.create("resnet20", 3, 7, 8, 5)) {
            StateDicts.save(m, w);
            layers = PrunableLayer.of(m);
            Map<String, int[]> shapes = new LinkedHashMap<>();
            layers.forEach(l -> shapes.put(l.name(), l.shape()));
            layers = List.copyOf(layers);
            int n = 4;
            float[] x = new float[n * 3 * 8 * 8];
            for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i);
            Map<String, SafeTensors.Entry> e = new LinkedHashMap<>();
            e.put("x", SafeTensors.Entry.of(x, n, 3, 8, 8));
            e.put("y", SafeTensors.Entry.ofLongs(new long[] {0, 6, 2, 3}, n));
            SafeTensors.write(b, e, null);
            Result r = run("score", "--model", "resnet20", "--weights", w.toString(), "--batch", b.toString(), "--method", "magnitude",
                    "--out", o.toString());
            assertEquals(0, r.code(), r.err());
            SafeTensors.File scores = SafeTensors.read(o);
            assertEquals(shapes.keySet(), scores.entries().keySet());
            for (PrunableLayer l : layers) {
                assertArrayEquals(l.shape(), scores.get(l.name()).intShape());
                double[] s = scores.get(l.name()).toDoubles();
                float[] wv = l.weight().toFloatArray();
                for (int i = 0; i < s.length; i++) assertEquals(Math.abs(wv[i]), s[i], 1e-7);
            }
            // a weights file for another model: one line, exit 2
            Result bad = run("score", "--model", "resnet32", "--weights", w.toString(), "--batch", b.toString(), "--method", "px",
                    "--out", o.toString());
            assertEquals(2, bad.code());
            assertEquals(1, bad.err().lines().count(), bad.err());
            Result badBatch = run("score", "--model", "resnet20", "--weights", w.toString(), "--batch", w.toString(), "--method", "px",
                    "--out", o.toString());
            assertEquals(2, badBatch.code());
            assertTrue(badBatch.err().contains("'x'"), badBatch.err());
        }
    }
}
