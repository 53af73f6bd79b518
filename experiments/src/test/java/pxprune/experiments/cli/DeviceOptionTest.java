package pxprune.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import pxprune.kernels.Backends;
import pxprune.kernels.Device;
import pxprune.kernels.DeviceId;
import pxprune.experiments.train.ConfigException;
import pxprune.experiments.train.Devices;
import pxprune.experiments.train.Recipes;
import pxprune.experiments.train.RunConfig;

/**
 * {@code --device} on run, prune and score, the config key {@code device} and the devices section
 * of {@code list}, on a machine without CUDA (the default test execution): bad values and an
 * unusable CUDA exit 2 with one line, before anything is written.
 */
class DeviceOptionTest {
    static final String PRUNE = "prune --model resnet20 --dataset digits --method random --density 0.1 --rounds 1 --out ";

    @Test
    void parsesTheThreeForms() {
        assertEquals(DeviceId.CPU, DeviceId.parse("cpu"));
        assertEquals(DeviceId.defaultOf(Device.CUDA), DeviceId.parse("cuda"));
        assertEquals(new DeviceId(Device.CUDA, 3), DeviceId.parse("cuda:3"));
        for (String s : new String[] {"cpu", "cuda:0", "cuda:12"}) assertEquals(s, DeviceId.parse(s).toString());
        assertEquals("cuda:" + DeviceId.defaultOf(Device.CUDA).index(), DeviceId.parse("cuda").toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpu", "CUDA", "cuda:", "cuda:x", "cuda:-1", "cuda:1.5", " cpu", "cuda:99999", "cuda 0", "", "cpu:0"})
    void refusesOtherForms(String s) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceId.parse(s));
        assertTrue(e.getMessage().contains("'" + s + "'") && e.getMessage().contains("cpu, cuda or cuda:N"), e.getMessage());
    }

    static void oneLineExit2(MainTest.Result r, String... fragments) {
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        for (String f : fragments) assertTrue(r.err().contains(f), "missing '" + f + "' in: " + r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"run", "prune", "score", "predict", "ntk", "explain"})
    void badDeviceExits2NamingOptionValueAndForms(String cmd, @TempDir Path tmp) {
        String base = switch (cmd) {
            case "run" -> "run digits --runs " + tmp.resolve("runs");
            case "prune" -> PRUNE + tmp.resolve("out");
            case "predict" -> "predict --model resnet20 --weights " + tmp.resolve("W.safetensors") + " --batch " + tmp.resolve("B.safetensors")
                    + " --out " + tmp.resolve("O.safetensors");
            case "ntk" -> "ntk --model resnet20 --dataset digits --out " + tmp.resolve("out");
            case "explain" -> "explain --model resnet20 --dataset digits";
            default -> "score --model resnet20 --weights " + tmp.resolve("W.safetensors") + " --batch " + tmp.resolve("B.safetensors")
                    + " --method snip --out " + tmp.resolve("O.safetensors");
        };
        MainTest.Result r = MainTest.run((base + " --device gpu").split(" "));
        oneLineExit2(r, "--device gpu", "'gpu' is not a device", "cpu, cuda or cuda:N");
        assertFalse(Files.exists(tmp.resolve("runs")) || Files.exists(tmp.resolve("out")));
    }

    @Test
    void deviceTwiceIsRefused(@TempDir Path tmp) {
        oneLineExit2(MainTest.run((PRUNE + tmp.resolve("out") + " --device cpu --device cpu").split(" ")), "--device", "given twice");
        oneLineExit2(MainTest.run(("run digits --runs " + tmp.resolve("runs") + " --device cpu --set device=cpu").split(" ")),
                "both choose the device");
    }

    /** the reason Backends gives, as the one line of the error */
    static String reason() {
        String why = Backends.unavailableReason(Device.CUDA);
        assumeFalse(why == null, "CUDA is usable here: this test is for machines without it");
        return Main.oneLine(why);
    }

    @Test
    void cudaUnavailableExits2WithTheReasonBeforeAnyOutput(@TempDir Path tmp) throws Exception {
        String why = reason();
        Path out = tmp.resolve("out");
        oneLineExit2(MainTest.run((PRUNE + out + " --device cuda").split(" ")), "--device cuda", why);
        assertFalse(Files.exists(out));
        oneLineExit2(MainTest.run((PRUNE + out + " --device cuda:0").split(" ")), "--device cuda:0", why);
        assertFalse(Files.exists(out));

        Path runs = tmp.resolve("runs");
        oneLineExit2(MainTest.run("run", "digits", "--runs", runs.toString(), "--device", "cuda"), "--device cuda", why);
        assertFalse(Files.exists(runs));
        // the config key: named as such
        Path cfg = tmp.resolve("c.json");
        Files.writeString(cfg, "{\"recipe\": \"digits\", \"method\": \"random\", \"device\": \"cuda\"}");
        oneLineExit2(MainTest.run("run", cfg.toString(), "--runs", runs.toString()), "config key 'device'", why);
        assertFalse(Files.exists(runs));
        oneLineExit2(MainTest.run("run", cfg.toString(), "--runs", runs.toString(), "--set", "epochs=1"), "config key 'device'", why);
        assertFalse(Files.exists(runs));
        // the main job
        oneLineExit2(MainTest.run("run", "--runs", runs.toString(), "--device", "cuda"), "--device cuda", why);
        assertFalse(Files.exists(runs));
    }

    @Test
    void configKeyDeviceLeavesTheHashAtItsDefault() {
        RunConfig d = Recipes.digits();
        assertEquals("629f8885271f", d.hash()); // pinned before the key existed (SegConfigTest)
        assertEquals("cpu", d.device());
        assertEquals(d.hash(), d.with("device", "cpu").hash());
        assertFalse(d.canonicalJson().contains("device"), d.canonicalJson());
        RunConfig c = d.withSet("device=cuda:1");
        assertEquals("cuda:1", c.device());
        assertNotEquals(d.hash(), c.hash());
        assertTrue(c.canonicalJson().contains("\"device\":\"cuda:1\""), c.canonicalJson());
        assertEquals(c, RunConfig.parse(c.prettyJson()));
        ConfigException e = assertThrows(ConfigException.class, () -> d.withSet("device=gpu"));
        assertTrue(e.getMessage().contains("config key 'device'") && e.getMessage().contains("\"gpu\"")
                && e.getMessage().contains("cpu, cuda or cuda:N"), e.getMessage());
        assertTrue(RunConfig.keyNames().contains("device"));
    }

    @Test
    void listShowsTheDevices() {
        MainTest.Result r = MainTest.run("list");
        assertEquals(0, r.code(), r.err());
        String out = r.out();
        assertTrue(out.contains("\ndevices:\n"), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("  cpu ") && l.contains(" cores") && l.contains("kernels: ")), out);
        // each CUDA device, or the one-line reason CUDA is not usable
        assertTrue(out.lines().anyMatch(l -> l.startsWith("  cuda:")), out);
        String why = Backends.unavailableReason(Device.CUDA);
        if (why != null) assertTrue(out.lines().anyMatch(l -> l.startsWith("  cuda: not usable: ")), out);
        else assertTrue(out.lines().anyMatch(l -> l.matches("  cuda:\\d+  .*compute capability \\d+\\.\\d+, [0-9.]+ GiB, driver CUDA .*")), out);
    }

    @Test
    void activatingAnotherDeviceNumberAfterCudaStartedFails() {
        // where CUDA has been tried in this process (the other tests did), asking for another number is refused
        Backends.unavailableReason(Device.CUDA);
        String before = System.getProperty(DeviceId.CUDA_DEFAULT_PROPERTY);
        int current = Backends.chosen(Device.CUDA).index(), other = current == 5 ? 6 : 5;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Devices.activate("cuda:" + other));
        assertTrue(e.getMessage().contains("cuda:" + other) && e.getMessage().contains("CUDA on device " + current + ";"),
                e.getMessage());
        assertEquals(current, Backends.chosen(Device.CUDA).index());
        // the device number travels as a value: the property stays as the user left it
        assertEquals(before, System.getProperty(DeviceId.CUDA_DEFAULT_PROPERTY));
    }
}
