package pxprune.kernels;

import org.bytedeco.javacpp.Pointer;

/**
 * The kept positions of a pruned weight [K, R] (R = in_channels * kh * kw for a convolution, the
 * input features for a linear layer), in the two orders the sparse kernels walk
 * ({@code native/src/main/cpp/pxsparse.h}): by output channel ({@code rows}, K+1 offsets, and
 * {@code fidx}, the flat indices k*R + r ascending) and by column ({@code cols}, R+1 offsets, and
 * {@code tfidx}, the same indices ordered by r, then k). Built once per mask; the values stay in the
 * dense weight tensor, which the kernels read at these indices on every call, so whatever updates
 * the weights (SGD, a loaded checkpoint) needs nothing else. Native buffers on the CPU, freed by
 * {@link #close}.
 */
public final class KeptWeights implements AutoCloseable {
    private final Backend backend;
    private final int k, r, nnz;
    private Pointer rows, fidx, cols, tfidx;

    private KeptWeights(Backend backend, int k, int r, int[] rowsA, int[] fidxA, int[] colsA, int[] tfidxA) {
        this.backend = backend;
        this.k = k;
        this.r = r;
        this.nnz = fidxA.length;
        rows = upload(rowsA);
        fidx = upload(fidxA);
        cols = upload(colsA);
        tfidx = upload(tfidxA);
    }

    private Pointer upload(int[] a) {
        Pointer p = backend.allocateUninitialized(Math.max(1, a.length) * 4L);
        if (a.length > 0) backend.upload(a, p);
        return p;
    }

    /**
     * The kept positions of a [k, r] weight whose mask (k*r values, row-major) is non-zero where a
     * weight is kept; the buffers live on {@code backend} (a CPU backend).
     */
    public static KeptWeights of(Backend backend, int k, int r, float[] mask) {
        if (k < 1 || r < 1 || mask.length != (long) k * r)
            throw new IllegalArgumentException("KeptWeights: a mask of " + mask.length + " values does not fit a [" + k + ", " + r
                    + "] weight; give one value per weight");
        int nnz = 0;
        for (float v : mask) if (v != 0) nnz++;
        int[] rows = new int[k + 1], fidx = new int[nnz], cols = new int[r + 1], tfidx = new int[nnz];
        int e = 0;
        for (int i = 0; i < k; i++) {
            rows[i] = e;
            for (int j = 0; j < r; j++) if (mask[i * r + j] != 0) { fidx[e++] = i * r + j; cols[j + 1]++; }
        }
        rows[k] = e;
        for (int j = 0; j < r; j++) cols[j + 1] += cols[j];
        int[] next = java.util.Arrays.copyOf(cols, r);
        for (int f : fidx) tfidx[next[f % r]++] = f; // fidx ascends in k, so each column's k ascend too
        return new KeptWeights(backend, k, r, rows, fidx, cols, tfidx);
    }

    /** output channels (rows of the weight) */
    public int rows() { return k; }

    /** weights per output channel */
    public int rowLength() { return r; }

    /** kept weights */
    public int kept() { return nnz; }

    /** the fraction of weights kept */
    public double density() { return (double) nnz / ((double) k * r); }

    /** offsets of each output channel's kept weights in {@link #fidxPointer()} (k+1 ints) */
    public Pointer rowsPointer() { return live(rows); }

    /** flat indices k*r + j of the kept weights by output channel, ascending */
    public Pointer fidxPointer() { return live(fidx); }

    /** offsets of each column's kept weights in {@link #tfidxPointer()} (r+1 ints) */
    public Pointer colsPointer() { return live(cols); }

    /** flat indices of the kept weights by column, then output channel */
    public Pointer tfidxPointer() { return live(tfidx); }

    private static Pointer live(Pointer p) {
        if (p == null) throw new IllegalStateException("KeptWeights: used after close()");
        return p;
    }

    @Override public void close() {
        if (rows == null) return;
        backend.free(rows);
        backend.free(fidx);
        backend.free(cols);
        backend.free(tfidx);
        rows = fidx = cols = tfidx = null;
    }
}
