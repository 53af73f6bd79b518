package pxprune.kernels;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BackendsTest {
    @Test void cpuIsBuiltIn() {
        assertSame(CpuBackend.INSTANCE, Backends.of(Device.CPU));
        assertTrue(Backends.available(Device.CPU));
    }

    /** this module's tests do not have pxprune-kernels-cuda on the class path */
    @Test void cudaWithoutItsModuleSaysSoClearly() {
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, () -> Backends.of(Device.CUDA));
        assertTrue(e.getMessage().startsWith("no CUDA device/driver found: "), e.getMessage());
        assertTrue(e.getMessage().contains("pxprune-kernels-cuda"), e.getMessage());
        assertFalse(Backends.available(Device.CUDA));
        assertTrue(e instanceof UnsupportedOperationException);
    }
}
