package pxprune.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.Numerics;
import pxprune.core.io.SafeTensors;
import pxprune.kernels.TestData;

/**
 * {@code pxprune predict} reproduces PyTorch's ResNet-20 logits (testdata/golden/resnet20_seed1:
 * weights, inputs and PyTorch's eval- and train-mode logits) through the command line, and refuses
 * bad files with one line and exit code 2.
 */
class PredictCommandTest {
    static final SafeTensors.File G = read(TestData.file("golden/resnet20_seed1.safetensors"));

    static SafeTensors.File read(Path p) {
        try { return SafeTensors.read(p); } catch (java.io.IOException e) { throw new IllegalStateException(e); }
    }

    /** the golden weights (PyTorch names) and inputs as the files a user would give */
    static Path[] files(Path tmp) throws Exception {
        Map<String, SafeTensors.Entry> w = new LinkedHashMap<>();
        G.entries().forEach((k, v) -> { if (k.startsWith("weight.")) w.put(k.substring("weight.".length()), v); });
        Path wp = tmp.resolve("W.safetensors"), bp = tmp.resolve("B.safetensors");
        SafeTensors.write(wp, w, Map.of("format", "pt"));
        SafeTensors.write(bp, Map.of("x", G.get("x")), Map.of());
        return new Path[] {wp, bp};
    }

    @Test void reproducesPyTorchsLogitsInEvalAndTrainMode(@TempDir Path tmp) throws Exception {
        Path[] f = files(tmp);
        for (String mode : new String[] {"eval", "train"}) {
            Path o = tmp.resolve(mode + ".safetensors");
            MainTest.Result r = mode.equals("eval")
                    ? MainTest.run("predict", "--model", "resnet20", "--weights", f[0].toString(), "--batch", f[1].toString(), "--out", o.toString())
                    : MainTest.run("predict", "--model", "resnet20", "--weights", f[0].toString(), "--batch", f[1].toString(), "--out", o.toString(),
                    "--train-mode");
            assertEquals(0, r.code(), r.err());
            SafeTensors.Entry out = read(o).get("out"), ref = G.get("logits_" + mode);
            assertArrayEquals(ref.intShape(), out.intShape());
            double e = Numerics.relativeL2(ref.toDoubles(), out.toDoubles());
            assertTrue(e < 1e-5, mode + " logits differ from PyTorch's by " + e);
            assertTrue(r.out().contains("outputs [100, 10] written to"), r.out());
        }
    }

    @Test void refusesBadFilesWithOneLine(@TempDir Path tmp) throws Exception {
        Path[] f = files(tmp);
        Path o = tmp.resolve("O.safetensors");
        // the weights given as the batch: no 'x'
        MainTest.Result r = MainTest.run("predict", "--model", "resnet20", "--weights", f[0].toString(), "--batch", f[0].toString(), "--out", o.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("needs a tensor 'x'"), r.err());
        // another model's weights
        r = MainTest.run("predict", "--model", "resnet32", "--weights", f[0].toString(), "--batch", f[1].toString(), "--out", o.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("cannot be loaded into resnet32"), r.err());
        // a non-finite input
        Path nan = tmp.resolve("nan.safetensors");
        SafeTensors.write(nan, Map.of("x", SafeTensors.Entry.of(new float[] {Float.NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 1, 3, 2, 2)), Map.of());
        r = MainTest.run("predict", "--model", "resnet20", "--weights", f[0].toString(), "--batch", nan.toString(), "--out", o.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("holds NaN at flat index 0"), r.err());
        for (String line : new String[] {r.err()}) assertEquals(1, line.strip().lines().count(), line);
        assertFalse(Files.exists(o), "a refused command writes nothing");
    }
}
