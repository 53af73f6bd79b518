package pxprune.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    /** tensors name only the kind: the first device of a kind looked up is the one the kind uses, another number fails */
    @Test void aProcessUsesTheFirstDeviceOfAKindLookedUp() {
        assertSame(CpuBackend.INSTANCE, Backends.of(DeviceId.CPU));
        assertEquals(DeviceId.CPU, Backends.chosen(Device.CPU));
        DeviceId chosen = Backends.chosen(Device.CUDA); // fixed now, if no other test did
        assertEquals(Device.CUDA, chosen.kind());
        assertEquals(chosen, Backends.chosen(Device.CUDA));
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, () -> Backends.of(chosen));
        assertTrue(e.getMessage().contains("pxprune-kernels-cuda"), e.getMessage());
        DeviceId other = DeviceId.cuda(chosen.index() == 7 ? 8 : 7);
        IllegalStateException s = assertThrows(IllegalStateException.class, () -> Backends.of(other));
        assertEquals(other + ": this process has already started (or tried to start) CUDA on device " + chosen.index()
                + "; one process uses one CUDA device, so run " + other + " in a process of its own", s.getMessage());
        assertEquals(chosen, Backends.chosen(Device.CUDA));
    }
}
