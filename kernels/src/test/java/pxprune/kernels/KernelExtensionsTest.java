package pxprune.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Backend.extension: a module's own kernels found through META-INF/services (this module's test resources list Scale's). */
class KernelExtensionsTest {
    /** an extension's kernel interface: y = 2x over n F64 elements */
    interface Scale {
        void twice(long n, double[] x, double[] y);

        final class OnCpu implements KernelExtension<Scale> {
            static int created;

            @Override public Class<Scale> type() { return Scale.class; }

            @Override public Device device() { return Device.CPU; }

            @Override public Scale create(Backend backend) {
                created++;
                return (n, x, y) -> { for (int i = 0; i < n; i++) y[i] = 2 * x[i]; };
            }
        }
    }

    /** a kernel interface nobody registers */
    interface Unregistered {}

    @Test void foundCreatedOnceAndKeptByTheBackend() {
        Scale s = CpuBackend.INSTANCE.extension(Scale.class);
        assertSame(s, Backends.of(Device.CPU).extension(Scale.class));
        assertEquals(1, Scale.OnCpu.created);
        double[] y = new double[2];
        s.twice(2, new double[] {1.5, -3}, y);
        assertEquals(3.0, y[0]);
        assertEquals(-6.0, y[1]);
    }

    @Test void unregisteredKernelsSaySo() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CpuBackend.INSTANCE.extension(Unregistered.class));
        assertTrue(e.getMessage().startsWith("no Unregistered kernels for CPU on the class path"), e.getMessage());
        assertTrue(e.getMessage().contains("META-INF/services/pxprune.kernels.KernelExtension"), e.getMessage());
    }
}
