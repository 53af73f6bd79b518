package pxprune.kernels;

/** Element types of tensors. I32 is for indices and labels, U8 for flags (e.g. masks of 0 and 1 as bytes): no arithmetic. */
public enum DType {
    F32(4, 0), F64(8, 1), I32(4, -1), U8(1, -1);

    /** bytes per element */
    public final int size;
    /** the native kernels' type code (0 float, 1 double; -1: not an arithmetic type) */
    public final int code;

    DType(int size, int code) { this.size = size; this.code = code; }

    public int code() {
        if (code < 0) throw new IllegalArgumentException(this + " tensors hold " + (this == U8 ? "flags" : "indices") + "; arithmetic needs F32 or F64");
        return code;
    }
}
