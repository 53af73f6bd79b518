package pxprune.px.methods.px.fused;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JNI entry points of PX's CPU kernels in {@code px/src/main/cpp/pxfused.h}, generated and compiled by
 * JavaCPP's builder when px is built (as pxprune-native's PxNative is). Buffers are contiguous native
 * buffers; {@code dt} is 0 for float32 and 1 for float64; gates are one byte per element.
 */
@Platform(include = "pxfused.h", link = "gomp")
public final class FusedNative {
    static { Loader.load(); }

    private FusedNative() {}

    /**
     * PX's gate pass ReLU over n elements of type dt: y = max(z, 0) and gate = 1[z > 0], one byte per
     * element, in one pass; y may be z
     */
    public static native void pxf_relu_gate(int dt, Pointer z, long n, Pointer y, Pointer gate);
    /** PX's activation network ReLU over n elements of type dt: y = z where gate != 0, else +0 (gate: bytes); y may be z */
    public static native void pxf_gate_mul(int dt, Pointer z, Pointer gate, long n, Pointer y);
}
