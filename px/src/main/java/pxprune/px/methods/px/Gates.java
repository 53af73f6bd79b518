package pxprune.px.methods.px;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.px.methods.px.fused.PxOps;

/**
 * The gates of one chunk's gate pass, in ReLU call order: 1[z &gt; 0] as U8 tensors (one byte per
 * element: a quarter of a float32 gate, an eighth of a float64 one) on the model's device, written by
 * {@link PxOps#reluGate} and read by A ({@link PxOps#gateMul}, or a layer's epilogue). Owned by this
 * holder, not by a memory scope (the gate pass runs in a scope of its own that they outlive), and
 * freed together by {@link #close}.
 */
final class Gates implements AutoCloseable {
    private final List<Tensor> gates = new ArrayList<>();

    /** a new gate for a ReLU on z, to be written by {@link PxOps#reluGate} */
    Tensor add(Tensor z) {
        Tensor g = MemoryScope.unscoped(() -> Tensor.uninitialized(DType.U8, z.device(), z.shape()));
        gates.add(g);
        return g;
    }

    int size() { return gates.size(); }

    /** gate i, for A's ReLU call i on a tensor of this shape (which must be the one the gate pass saw) */
    Tensor get(int i, int[] shape) {
        if (i >= gates.size())
            throw new IllegalStateException("the model called ReLU more often in the activation network than in the gate pass ("
                    + gates.size() + " calls); its forward must visit the same sites in the same order");
        Tensor g = gates.get(i);
        if (!Arrays.equals(g.shape(), shape))
            throw new IllegalStateException("ReLU call " + i + " saw shape " + Arrays.toString(g.shape()) + " in the gate pass but "
                    + Arrays.toString(shape) + " in the activation network; the forward must visit the same sites in order");
        return g;
    }

    /** the gates as new tensors of type t (0 or 1), for the trace */
    List<Tensor> tensors(DType t) {
        List<Tensor> out = new ArrayList<>();
        for (Tensor g : gates) {
            byte[] b = g.toByteArray();
            double[] v = new double[b.length];
            for (int k = 0; k < b.length; k++) v[k] = b[k];
            out.add(pxprune.px.Substituted.tensor(v, t, g.shape()));
        }
        return out;
    }

    @Override public void close() {
        for (Tensor g : gates) g.close();
        gates.clear();
    }
}
