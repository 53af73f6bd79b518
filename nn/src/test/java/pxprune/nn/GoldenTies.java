package pxprune.nn;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;
import pxprune.kernels.TestData;

/**
 * The golden ResNet-20 with the ReLU gates at its near-ties taken from the golden file's own
 * computation (testdata/golden/resnet20_relu_ties.safetensors, made by
 * testdata/tools/relu_ties.py; see testdata/README.md).
 *
 * <p>Among the ~19M ReLU inputs of the golden training forward, 1,355 lie within 1e-4 of zero.
 * Two float32 evaluations that sum in different orders (another library, or the same library on
 * a processor with other SIMD widths) can round such an input to the other side of zero, and one
 * flipped gate moves every gradient upstream of it by ~1e-3 in relative L2 (one unit among 1.6M
 * carries about 1/sqrt(1.6M) of a gradient's norm). Which of them flip is a property of the
 * processor, not of the method: PyTorch itself, on an AMD EPYC, resolves
 * three of them otherwise than the machine that made the golden file. So the golden comparisons
 * of gradients (and of SNIP and GraSP, which are made of them) evaluate the ReLUs at exactly those
 * units as the golden computation did, and compute everything else themselves; no float32
 * rounding (~1e-6 here) can flip a unit outside that list, and {@link #wrap} checks that this
 * holds on the machine it runs on.
 */
public final class GoldenTies {
    /** per ReLU site (0 the stem, 1 + 2b and 2 + 2b the two ReLUs of block b): flat unit indices and gates */
    private final List<int[]> index = new ArrayList<>();
    private final List<float[]> gate = new ArrayList<>();
    private final double threshold;

    private GoldenTies(SafeTensors.File f) {
        int sites = Integer.parseInt(f.metadata().get("sites"));
        threshold = Double.parseDouble(f.metadata().get("threshold"));
        for (int s = 0; s < sites; s++) {
            index.add(f.get("site." + s + ".index").toInts());
            gate.add(f.get("site." + s + ".gate").toFloats());
        }
    }

    public static GoldenTies load() {
        try {
            return new GoldenTies(SafeTensors.read(TestData.file("golden/resnet20_relu_ties.safetensors")));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public int sites() { return index.size(); }

    /** how many listed units the given site's own float32 values put on the other side (set by the last forward) */
    public int[] lastDisagreements = new int[0];

    /**
     * The same modules under the same names; every layer is still evaluated by the caller's
     * interpreter, and each ReLU's gate is taken from the golden computation at the listed units.
     * Throws if this machine's pre-activation at a unit outside the list is within a tenth of the
     * list's threshold of zero (the list would not cover this processor's rounding).
     */
    public Module wrap(Module inner) {
        GoldenTies ties = this;
        return new Module() {
            {
                inner.children().forEach(this::registerModule);
            }

            @Override public Tensor forward(Tensor in, Interpreter it) {
                int[] site = {0};
                ties.lastDisagreements = new int[ties.sites()];
                Tensor out = inner.forward(in, new Interpreter() {
                    @Override public Tensor conv2d(Conv2d m, Tensor z) { return it.conv2d(m, z); }
                    @Override public Tensor linear(Linear m, Tensor z) { return it.linear(m, z); }
                    @Override public Tensor batchNorm(BatchNorm m, Tensor z) { return it.batchNorm(m, z); }
                    @Override public Tensor relu(Tensor z) { return ties.relu(site[0]++, z); }
                });
                if (site[0] != ties.sites())
                    throw new IllegalStateException("the model has " + site[0] + " ReLU sites, the ties file " + ties.sites());
                return out;
            }
        };
    }

    private Tensor relu(int s, Tensor z) {
        if (s >= sites()) throw new IllegalStateException("ReLU site " + s + " is not in the ties file (" + sites() + " sites)");
        double[] v = z.toDoubleArray();
        float[] g = new float[v.length];
        for (int i = 0; i < v.length; i++) g[i] = v[i] > 0 ? 1 : 0;
        int[] idx = index.get(s);
        float[] gt = gate.get(s);
        java.util.BitSet listed = new java.util.BitSet(v.length);
        for (int k = 0; k < idx.length; k++) {
            if (g[idx[k]] != gt[k]) lastDisagreements[s]++;
            g[idx[k]] = gt[k];
            listed.set(idx[k]);
        }
        for (int i = 0; i < v.length; i++)
            if (Math.abs(v[i]) < threshold / 10 && !listed.get(i))
                throw new IllegalStateException("ReLU site " + s + " unit " + i + ": pre-activation " + v[i]
                        + " is a near-tie the ties file does not list; rerun testdata/tools/relu_ties.py with a larger threshold");
        if (z.dtype() == pxprune.kernels.DType.F32) return Ops.mul(z, Tensor.of(g, z.shape()));
        double[] gd = new double[g.length];
        for (int i = 0; i < g.length; i++) gd[i] = g[i];
        return Ops.mul(z, Tensor.of(gd, z.shape()));
    }
}
