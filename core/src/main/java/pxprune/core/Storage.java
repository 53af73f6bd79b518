package pxprune.core;

import org.bytedeco.javacpp.Pointer;
import pxprune.kernels.Backend;

/** A native buffer shared by a tensor and its views; freed when the last of them is closed. */
final class Storage {
    final Backend backend;
    private final Pointer ptr;
    final long bytes;
    private int refs = 1;
    /** bumped by every write that reuses this buffer for a new result (Ops.reluReusing, Ops.addReusing) */
    private int version;

    Storage(Backend backend, long bytes, boolean zeroed) {
        this.backend = backend;
        this.bytes = bytes;
        this.ptr = zeroed ? backend.allocate(bytes) : backend.allocateUninitialized(bytes);
    }

    Pointer pointer() {
        if (refs <= 0) throw new IllegalStateException(
                "tensor used after its memory was freed (closed, or its MemoryScope ended); keep it with MemoryScope.keep()");
        return ptr;
    }

    boolean freed() { return refs <= 0; }

    /** whether another tensor (a view) shares this buffer */
    boolean shared() { return refs > 1; }

    int version() { return version; }

    void bumpVersion() { version++; }

    void retain() { pointer(); refs++; }

    void release() {
        if (refs <= 0) return;
        if (--refs == 0) backend.free(ptr);
    }
}
