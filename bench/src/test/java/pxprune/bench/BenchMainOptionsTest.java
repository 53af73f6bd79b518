package pxprune.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import pxprune.px.cli.UsageException;
import pxprune.px.train.DeviceSpec;

/** BenchMain's command line: [OUT_DIR] [INCLUDE] [--device D], the device passed to the forks. */
class BenchMainOptionsTest {
    @Test
    void parsesPositionalsAndDevice() {
        BenchMain.Cli c = BenchMain.parse(new String[] {});
        assertEquals(Path.of("bench-results"), c.out());
        assertEquals(DeviceSpec.CPU, c.device());
        c = BenchMain.parse(new String[] {"out", "ModelBench", "--device", "cuda:1"});
        assertEquals(Path.of("out"), c.out());
        assertEquals("ModelBench", c.include());
        assertEquals("cuda:1", c.device().toString());
        assertEquals("cuda", BenchMain.parse(new String[] {"--device=cuda", "o"}).device().toString());
        assertTrue(List.of(BenchMain.forkOptions(c.device())).contains("-D" + BenchMain.DEVICE_PROPERTY + "=cuda:1"));
        assertEquals(DeviceSpec.CPU, BenchMain.device());
    }

    @Test
    void refusesBadDevices() {
        UsageException e = assertThrows(UsageException.class, () -> BenchMain.parse(new String[] {"--device", "gpu"}));
        assertTrue(e.getMessage().startsWith("--device gpu: ") && e.getMessage().contains("cpu, cuda or cuda:N"), e.getMessage());
        assertThrows(UsageException.class, () -> BenchMain.parse(new String[] {"--device"}));
        assertThrows(UsageException.class, () -> BenchMain.parse(new String[] {"--device", "cpu", "--device=cpu"}));
        assertThrows(UsageException.class, () -> BenchMain.parse(new String[] {"--fast"}));
        assertThrows(UsageException.class, () -> BenchMain.parse(new String[] {"a", "b", "c"}));
    }
}
