package pxprune.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import pxprune.kernels.CudaTest;

/**
 * The device number reaches the CUDA backend as a value: each case looks up a device in a JVM of its
 * own ({@link DeviceSelectionProbe}; a process uses one CUDA device) on the emulator (one device) or a GPU.
 */
@CudaTest
class DeviceSelectionKernelLogicTest {
    /** the probe's output, run with the device string, the property pxprune.cuda.device (null: unset) and the same in PXPRUNE_CUDA_DEVICE */
    private static String probe(String device, String property) throws IOException, InterruptedException {
        Path out = Files.createTempFile("pxprune-device-probe", ".txt");
        try {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            if (property != null) cmd.add("-Dpxprune.cuda.device=" + property);
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), DeviceSelectionProbe.class.getName(), device));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            if (property != null) pb.environment().put("PXPRUNE_CUDA_DEVICE", property);
            else pb.environment().remove("PXPRUNE_CUDA_DEVICE");
            pb.redirectErrorStream(true);
            pb.redirectOutput(out.toFile());
            Process p = pb.start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the probe JVM finishes");
            String s = Files.readString(out, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), s);
            return s;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @Test void theNumberGivenIsTheDeviceTheBackendStartsOn() throws IOException, InterruptedException {
        // device 1: the emulator has one device, so CUDA itself says that device 1 was asked for
        String one = probe("cuda:1", null);
        assertTrue(one.contains("uses device 1") || one.contains("unavailable: no CUDA device/driver found: CUDA device 1 was asked for"), one);
        assertTrue(one.contains("property afterwards: null"), one);
    }

    @Test void theDefaultDeviceSettingsDoNotReachTheBackendWhenANumberIsGiven() throws IOException, InterruptedException {
        String zero = probe("cuda:0", "7");
        assertTrue(zero.contains("uses device 0"), zero);
        assertTrue(zero.contains("property afterwards: 7"), zero);
    }

    @Test void cudaWithoutANumberMeansTheDefaultDeviceSettings() throws IOException, InterruptedException {
        String seven = probe("cuda", "7");
        assertTrue(seven.contains("uses device 7") || seven.contains("CUDA device 7 was asked for"), seven);
        assertTrue(probe("cuda", null).contains("uses device 0"));
    }
}
