package pxprune.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import pxprune.kernels.Backends;
import pxprune.kernels.CudaTest;
import pxprune.kernels.Device;

/**
 * The device listing behind {@code pxprune list}: never throws, and where CUDA works it reports
 * every device with name, compute capability, memory and driver version. With the emulator (a
 * kernel-logic test) that is its one device, "pxprune CUDA emulator (CPU)", 9.0, 16 GiB, CUDA 13.0.
 */
class CudaDevicesTest {
    @Test
    void describeNeverThrowsAndMatchesTheBackend() {
        List<String> lines = Backends.describe(Device.CUDA);
        assertFalse(lines.isEmpty());
        assertEquals(new CudaProvider().describe(), lines);
        if (Backends.unavailableReason(Device.CUDA) == null)
            assertTrue(lines.stream().allMatch(l -> l.matches("cuda:\\d+  .+, compute capability \\d+\\.\\d+, [0-9.]+ GiB, driver CUDA \\d+\\.\\d+")),
                    lines.toString());
        else assertTrue(lines.size() == 1 && lines.get(0).startsWith("cuda: "), lines.toString());
    }

    @Test
    @CudaTest
    void listsTheDevices() {
        List<CudaDevices.Info> devices = CudaDevices.list();
        assertFalse(devices.isEmpty());
        CudaDevices.Info d = devices.get(0);
        assertEquals(0, d.index());
        assertTrue(d.ccMajor() >= 8 && d.totalMemory() > 0 && d.driverVersion() >= 12000, d.toString());
        if (d.name().contains("emulator")) {
            assertEquals("cuda:0  pxprune CUDA emulator (CPU), compute capability 9.0, 16.0 GiB, driver CUDA 13.0", d.describe());
        }
    }
}
