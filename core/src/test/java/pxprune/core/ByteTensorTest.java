package pxprune.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import pxprune.kernels.DType;
import pxprune.kernels.Device;

/** U8 tensors: one byte per element, copied from and to the host, moved between devices, never arithmetic. */
class ByteTensorTest {
    @Test void holdsOneBytePerElement() {
        assertEquals(1, DType.U8.size);
        byte[] v = {0, 1, 1, 0, (byte) 255, 7};
        try (Tensor t = Tensor.ofBytes(v, 2, 3)) {
            assertEquals(DType.U8, t.dtype());
            assertArrayEquals(v, t.toByteArray());
            assertArrayEquals(new double[] {0, 1, 1, 0, 255, 7}, t.toDoubleArray());
            try (Tensor c = Ops.to(t, Device.CPU)) { assertArrayEquals(v, c.toByteArray()); }
        }
        try (Tensor z = Tensor.zeros(DType.U8, 5)) { assertArrayEquals(new byte[5], z.toByteArray()); }
    }

    @Test void isNoOperandAndConvertsToNothing() {
        try (Tensor t = Tensor.ofBytes(new byte[] {1, 0}, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.mul(t, t));
            assertTrue(e.getMessage().startsWith("mul: input is a U8 tensor [2]; arithmetic needs F32 or F64"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.to(t, DType.F32));
            assertTrue(e.getMessage().contains("U8 tensors hold flags and convert to nothing"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t.requiresGrad(true));
            assertThrows(IllegalStateException.class, t::toIntArray);
        }
        try (Tensor f = Tensor.zeros(DType.F32, 2)) { assertThrows(IllegalStateException.class, f::toByteArray); }
        assertThrows(IllegalArgumentException.class, () -> Tensor.ofBytes(new byte[3], 2, 2));
    }
}
