package pxprune.experiments.cli;

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

/**
 * {@code score --precision} and {@code prune --precision}: SNIP in float64 differs from float32 by float32's rounding (and
 * the gates it flips); px and synflow follow the option (the dtype of their --trace lines), their float32 defaults equal
 * float64 to 1e-6; bad values refused.
 */
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

    /** the dtype of the tensor named {@code name} on the first line of a --trace that starts with {@code prefix} */
    static String traceType(String err, String prefix, String name) {
        for (String line : err.split("\n"))
            if (line.startsWith(prefix)) {
                int at = line.indexOf(name + ": ") + name.length() + 2;
                return line.substring(at, at + 3);
            }
        throw new AssertionError("no '" + prefix + "' trace line in:\n" + err);
    }

    /** px: --precision picks A's arithmetic (z1 on the activation network's trace line) in score and in prune */
    @Test void pxHonoursThePrecisionInScoreAndPrune(@TempDir Path tmp) throws Exception {
        honoursThePrecision(tmp, "px", err -> traceType(err, "[trace px] A ", "z1"));
    }

    /** synflow: --precision picks the linearised network's arithmetic (its all-ones input) in score and prune */
    @Test void synflowHonoursThePrecisionInScoreAndPrune(@TempDir Path tmp) throws Exception {
        honoursThePrecision(tmp, "synflow", err -> traceType(err, "[trace synflow] forward ", "ones"));
    }

    /**
     * method's arithmetic, as typeOf reads it from a --trace, follows --precision in score and prune;
     * float32 is the default and agrees with float64 to 1e-6 (relative L2 of one layer's scores)
     */
    static void honoursThePrecision(Path tmp, String method, java.util.function.Function<String, String> typeOf) throws Exception {
        Path[] f = PredictCommandTest.files(tmp);
        SafeTensors.File g = PredictCommandTest.G;
        Path b = tmp.resolve("XY.safetensors");
        SafeTensors.write(b, Map.of("x", g.get("x"), "y", g.get("y")), Map.of());
        String[] precisions = {"float32", "float64", null};
        double[][] s = new double[3][];
        for (int i = 0; i < 3; i++) {
            Path o = tmp.resolve(i + ".safetensors");
            java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("score", "--model", "resnet20", "--weights",
                    f[0].toString(), "--batch", b.toString(), "--method", method, "--out", o.toString(), "--trace"));
            if (precisions[i] != null) a.addAll(java.util.List.of("--precision", precisions[i]));
            MainTest.Result r = MainTest.run(a.toArray(new String[0]));
            assertEquals(0, r.code(), r.err());
            assertEquals(i == 1 ? "F64" : "F32", typeOf.apply(r.err()), precisions[i] + ": " + r.err());
            s[i] = SafeTensors.read(o).get("blocks.4.conv1.weight").toDoubles();
        }
        // that the option is used is what the trace's dtype above shows; the scores only need to agree. Written to the
        // float32 output file, they often round to the same bits (measured: relative L2 0 on an AMD EPYC with AVX-512F,
        // 2e-8 on AVX2 machines), so "differs" would rest on one processor's rounding.
        double e = Numerics.relativeL2(s[1], s[0]);
        assertTrue(e <= 1e-6, "float32 vs float64 " + method + " scores: relative L2 " + e);
        assertEquals(0, Numerics.relativeL2(s[0], s[2]), "the default is float32");
        for (String p : new String[] {"float32", "float64"}) {
            MainTest.Result r = MainTest.run("prune", "--model", "resnet20", "--dataset", "digits", "--method", method, "--density", "0.5",
                    "--rounds", "1", "--out", tmp.resolve("prune-" + method + "-" + p).toString(), "--trace", "--precision", p);
            assertEquals(0, r.code(), r.err());
            assertEquals(p.equals("float64") ? "F64" : "F32", typeOf.apply(r.err()), p + ": " + r.err());
        }
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
