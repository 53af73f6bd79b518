package pxprune.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import org.junit.jupiter.api.Test;
import pxprune.jni.PxNative;

/** the engine's op codes are the native kernels' (CpuBackend passes them through) */
class OpCodesTest {
    @Test void everyCodeEqualsTheNativeOne() throws ReflectiveOperationException {
        int n = 0;
        for (Field f : OpCodes.class.getFields()) {
            if (!Modifier.isStatic(f.getModifiers())) continue;
            assertEquals(PxNative.class.getField(f.getName()).getInt(null), f.getInt(null), f.getName());
            n++;
        }
        int nativeCodes = 0;
        for (Field f : PxNative.class.getFields())
            if (f.getName().startsWith("B_") || f.getName().startsWith("U_")) nativeCodes++;
        assertEquals(nativeCodes, n, "OpCodes names every binary and unary op code of PxNative");
        assertTrue(n > 0);
    }
}
