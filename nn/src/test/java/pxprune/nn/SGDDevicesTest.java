package pxprune.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.kernels.Device;

/**
 * SGD's device rules without a GPU: to() refuses parameters that are not on the target device
 * (naming the parameter and both devices) or that Module.to has closed, and is a no-op where
 * everything is there already. The CUDA side is px's CudaTrainingTest (kernel-logic tests).
 */
class SGDDevicesTest {
    @Test
    void toRefusesParametersOnAnotherDeviceAndClosedOnes() {
        try (MemoryScope s = MemoryScope.open()) {
            Tensor w = Tensor.of(new float[] {1, -2, 3}, 3).requiresGrad(true);
            Map<String, Tensor> params = new LinkedHashMap<>();
            params.put("w", w);
            try (SGD opt = new SGD(params, 0.1, 0.9, 0, false)) {
                opt.setMask("w", Tensor.of(new float[] {1, 0, 1}, 3));
                w.setGrad(MemoryScope.unscoped(() -> Tensor.full(DType.F32, 1, 3)));
                opt.step();
                assertSame(opt, opt.to(Device.CPU));
                assertArrayEquals(new float[] {0.9f, 0, 2.9f}, w.toFloatArray());
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> opt.to(Device.CUDA));
                assertTrue(e.getMessage().contains("parameter w is on CPU, not CUDA") && e.getMessage().contains("model.to(CUDA)"),
                        e.getMessage());
                w.close();
                IllegalStateException c = assertThrows(IllegalStateException.class, () -> opt.to(Device.CUDA));
                assertTrue(c.getMessage().contains("parameter w is closed") && c.getMessage().contains("loadState"), c.getMessage());
            }
        }
    }
}
