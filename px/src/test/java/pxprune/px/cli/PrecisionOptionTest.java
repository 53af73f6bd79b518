package pxprune.px.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.Numerics;
import pxprune.core.io.SafeTensors;

/** {@code score --precision}: SNIP in float64 differs from float32 by float32's rounding (and the gates it flips); bad values refused. */
class PrecisionOptionTest {
    @Test void snipInFloat64AgreesWithFloat32ToItsRounding(@TempDir Path tmp) throws Exception {
        Path[] f = PredictCommandTest.files(tmp);
        SafeTensors.File g = PredictCommandTest.G;
        Path b = tmp.resolve("XY.safetensors");
        SafeTensors.write(b, Map.of("x", g.get("x"), "y", g.get("y")), Map.of());
        double[][] s = new double[2][];
        String[] precisions = {"float32", "float64"};
        for (int i = 0; i < 2; i++) {
            Path o = tmp.resolve(precisions[i] + ".safetensors");
            MainTest.Result r = MainTest.run("score", "--model", "resnet20", "--weights", f[0].toString(), "--batch", b.toString(),
                    "--method", "snip", "--out", o.toString(), "--precision", precisions[i]);
            assertEquals(0, r.code(), r.err());
            s[i] = SafeTensors.read(o).get("blocks.4.conv1.weight").toDoubles();
        }
        // not equal (the option is used), and close: this batch has ReLU inputs within 1e-4 of zero
        // (nn's GoldenTies lists 1,355), whose gates float32's rounding flips, so 1e-3 here, not 1e-7
        double e = Numerics.relativeL2(s[1], s[0]);
        assertTrue(e > 0 && e < 1e-2, "float32 vs float64 SNIP scores: relative L2 " + e);
    }

    @Test void refusesAnUnknownPrecisionBeforeWriting(@TempDir Path tmp) throws Exception {
        Path[] f = PredictCommandTest.files(tmp);
        Path o = tmp.resolve("O.safetensors");
        MainTest.Result r = MainTest.run("score", "--model", "resnet20", "--weights", f[0].toString(), "--batch", f[1].toString(),
                "--method", "snip", "--out", o.toString(), "--precision", "half");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--precision half is not a precision; give float32 (the model's) or float64"), r.err());
        assertFalse(Files.exists(o));
    }
}
