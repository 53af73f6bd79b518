package pxprune.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.Numerics;
import pxprune.core.io.Json;
import pxprune.core.io.SafeTensors;
import pxprune.kernels.CudaTest;

/**
 * {@code predict}, {@code ntk} and {@code explain} with {@code --device cuda} give what they give on the
 * CPU. Where there is no GPU these run against the CPU emulation of the CUDA libraries (kernel-logic
 * tests). Tolerances: the logits as GoldenResNet20CudaTest derives them (3e-5 relative L2 over ResNet-20's
 * 19 float32 layers); the NTK is float64 (its default precision) over the float32 model's Jacobian, whose
 * float32 rounding (about 1e-6 relative per layer) bounds its agreement, hence 1e-4 on the trace.
 */
@CudaTest
class CliCudaTest {
    @Test void predictOnCudaGivesTheCpuLogits(@TempDir Path tmp) throws Exception {
        Path[] f = PredictCommandTest.files(tmp);
        // two images: the emulator's reference loops are slow
        SafeTensors.Entry x = PredictCommandTest.G.get("x");
        int[] s = x.intShape();
        float[] two = Arrays.copyOf(x.toFloats(), 2 * s[1] * s[2] * s[3]);
        SafeTensors.write(f[1], Map.of("x", SafeTensors.Entry.of(two, 2, s[1], s[2], s[3])), Map.of());
        double[][] out = new double[2][];
        for (int i = 0; i < 2; i++) {
            Path o = tmp.resolve("out" + i + ".safetensors");
            MainTest.Result r = MainTest.run("predict", "--model", "resnet20", "--weights", f[0].toString(), "--batch", f[1].toString(),
                    "--out", o.toString(), "--device", i == 0 ? "cpu" : "cuda");
            assertEquals(0, r.code(), r.err());
            SafeTensors.File of = PredictCommandTest.read(o);
            assertEquals(i == 0 ? "cpu" : "cuda", of.metadata().get("device"));
            out[i] = of.get("out").toDoubles();
        }
        double e = Numerics.relativeL2(out[0], out[1]);
        assertTrue(e < 3e-5, "CUDA logits differ from the CPU's by " + e);
    }

    @SuppressWarnings("unchecked")
    @Test void ntkOnCudaGivesTheCpuTrace(@TempDir Path tmp) throws Exception {
        double[] trace = new double[2];
        for (int i = 0; i < 2; i++) {
            Path dir = tmp.resolve("ntk" + i);
            MainTest.Result r = MainTest.run("ntk", "--model", "resnet20", "--dataset", "digits", "--samples", "2", "--top", "2",
                    "--out", dir.toString(), "--device", i == 0 ? "cpu" : "cuda");
            assertEquals(0, r.code(), r.err());
            Map<String, Object> j = Json.parseObject(Files.readString(dir.resolve("ntk.json")));
            assertEquals(i == 0 ? "cpu" : "cuda", j.get("device"));
            trace[i] = ((Number) ((Map<String, Object>) ((List<Object>) j.get("networks")).get(0)).get("trace")).doubleValue();
        }
        assertEquals(trace[0], trace[1], 1e-4 * Math.abs(trace[0]), "the dense NTK's trace");
    }

    @Test void explainRunsOnCuda() {
        MainTest.Result r = MainTest.run("explain", "--model", "resnet20", "--dataset", "digits", "--device", "cuda");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("on cuda"), r.out());
    }
}
