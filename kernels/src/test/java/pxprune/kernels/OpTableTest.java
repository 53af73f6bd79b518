package pxprune.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;
import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.Test;
import pxprune.jni.PxNative;

/**
 * The element-wise op codes of {@link PxNative} (U_*, B_*) agree with the op table the native
 * kernels are built from (native/src/main/cpp/pxops.h): every op of the table has its constant,
 * with its position as the code, and there is no constant the table lacks.
 */
class OpTableTest {
    @Test void unaryCodesAreTheTablesPositions() {
        check("U_", PxNative.pxk_unary_ops(), PxNative::pxk_unary_op_name);
    }

    @Test void binaryCodesAreTheTablesPositions() {
        check("B_", PxNative.pxk_binary_ops(), PxNative::pxk_binary_op_name);
    }

    private static void check(String prefix, int count, IntFunction<BytePointer> name) {
        PxNative.load();
        Map<String, Integer> java = constants(prefix);
        Map<String, Integer> table = new TreeMap<>();
        for (int op = 0; op < count; op++) table.put(prefix + name.apply(op).getString(), op);
        assertNull(name.apply(count), "the table's name function should end at its count " + count);
        assertTrue(count > 0, "empty op table");
        assertEquals(table, java, "PxNative's " + prefix + "* constants must be pxops.h's op table (name -> position); "
                + "add or fix the constant in native/src/main/java/pxprune/jni/PxNative.java");
    }

    /** PxNative's public static final int fields named prefix + NAME */
    private static Map<String, Integer> constants(String prefix) {
        Map<String, Integer> m = new TreeMap<>();
        for (Field f : PxNative.class.getFields()) {
            int mod = f.getModifiers();
            if (f.getName().startsWith(prefix) && Modifier.isStatic(mod) && Modifier.isFinal(mod) && f.getType() == int.class) {
                try {
                    m.put(f.getName(), f.getInt(null));
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return m;
    }
}
