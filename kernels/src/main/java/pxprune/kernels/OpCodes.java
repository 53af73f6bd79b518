package pxprune.kernels;

/**
 * The operation codes of {@link Backend#binary} and {@link Backend#unary}, the engine's own: callers
 * above kernels name these, never the JNI class. The CPU backend hands them to the native kernels
 * unchanged and the CUDA backend picks its kernels by them, so they equal pxprune-native's codes
 * (PxNative's B_* and U_*), which OpCodesTest checks.
 */
public final class OpCodes {
    private OpCodes() {}

    /** binary: out = a + b, a - b, a * b, a / b, max(a, b), and a where b > 0 else 0 (ReLU's backward) */
    public static final int B_ADD = 0, B_SUB = 1, B_MUL = 2, B_DIV = 3, B_MAX = 4, B_GTMASK = 5;
    /** unary: -x, x^2, |x|, sqrt x, exp x, log x, max(x, 0), sign x, 1[x > 0], 1/sqrt x, 1/x, x * alpha + beta */
    public static final int U_NEG = 0, U_SQUARE = 1, U_ABS = 2, U_SQRT = 3, U_EXP = 4, U_LOG = 5, U_RELU = 6,
            U_SIGN = 7, U_STEP = 8, U_RSQRT = 9, U_RECIP = 10, U_AFFINE = 11;
}
