package pxprune.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.io.SafeTensors;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.PrunableLayer;

/**
 * The options of {@code score} change its scores as the usage says: --seed is the random method's generator (the
 * scores are SplittableRandom(seed)'s numbers, layer by layer, row-major; default 1), --batch the examples the
 * data-dependent methods score on, --device cpu the default. (--weights and --method: MainTest, CommandOptionsTest;
 * --trace and --precision: PrecisionOptionTest.)
 */
class ScoreOptionsTest {
    static Path score(Path tmp, Path[] f, String method, String name, String... more) {
        Path o = tmp.resolve(name + ".safetensors");
        List<String> a = new ArrayList<>(List.of("score", "--model", "resnet20", "--weights", f[0].toString(), "--batch", f[1].toString(),
                "--method", method, "--out", o.toString()));
        a.addAll(List.of(more));
        MainTest.Result r = MainTest.run(a.toArray(new String[0]));
        assertEquals(0, r.code(), String.join(" ", a) + ": " + r.err());
        return o;
    }

    @Test void seedIsTheRandomMethodsGenerator(@TempDir Path tmp) throws Exception {
        Path[] f = CommandOptionsTest.files(tmp, 0, 4, "B.safetensors");
        List<String> names;
        try (Module m = ModelRegistry.create("resnet20", 3, 10, 32, 0)) {
            names = PrunableLayer.of(m).stream().map(PrunableLayer::name).toList();
        }
        long[] seeds = {1, 7};
        for (long seed : seeds) {
            SafeTensors.File s = SafeTensors.read(score(tmp, f, "random", "random" + seed, "--seed", "" + seed));
            SplittableRandom rng = new SplittableRandom(seed);
            for (String n : names) {
                SafeTensors.Entry e = s.get(n);
                double[] v = e.toDoubles();
                for (int i = 0; i < v.length; i++) {
                    double x = rng.nextDouble();
                    assertEquals(e.dtype().equals("F32") ? (float) x : x, v[i], 0, n + "[" + i + "], seed " + seed);
                }
            }
        }
        // the default is seed 1
        assertArrayEquals(Files.readAllBytes(tmp.resolve("random1.safetensors")),
                Files.readAllBytes(score(tmp, f, "random", "random-default")));
    }

    /** snip's scores |g w| depend on the examples: those of two disjoint batches differ; --device cpu gives the default's bytes */
    @Test void batchAndDeviceDecideWhereAndOnWhatItScores(@TempDir Path tmp) throws Exception {
        Path[] a = CommandOptionsTest.files(tmp, 0, 10, "A.safetensors"), b = CommandOptionsTest.files(tmp, 10, 10, "B.safetensors");
        Path sa = score(tmp, a, "snip", "snip-a"), sb = score(tmp, b, "snip", "snip-b");
        String layer = "blocks.4.conv1.weight";
        assertFalse(Arrays.equals(SafeTensors.read(sa).get(layer).toDoubles(), SafeTensors.read(sb).get(layer).toDoubles()),
                "snip scored two different batches alike");
        assertArrayEquals(Files.readAllBytes(sa), Files.readAllBytes(score(tmp, a, "snip", "snip-a-cpu", "--device", "cpu")));
    }
}
