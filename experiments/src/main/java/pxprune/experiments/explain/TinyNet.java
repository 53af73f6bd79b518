package pxprune.experiments.explain;

import java.util.LinkedHashMap;
import java.util.Map;
import pxprune.core.Tensor;
import pxprune.nn.Init;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.Module;
import pxprune.px.Masks;

/**
 * The worked example of docs/walkthrough.md: a bias-free ReLU network 3-4-4-2
 * ({@code fc0} 3 -> 4, ReLU, {@code fc1} 4 -> 4, ReLU, {@code fc2} 4 -> 2) with fixed weights in
 * halves and integers (exact in float32), two input samples, and a mask with two weights pruned,
 * as an earlier round would have left it: {@code fc0.weight[2][0]} and {@code fc2.weight[1][3]}.
 * The pruned output weight makes A's outputs differ, so w depends on the data.
 */
public final class TinyNet extends Module {
    /** fc0.weight [4, 3], fc1.weight [4, 4], fc2.weight [2, 4], row-major [out][in] */
    static final double[][][] THETA = {
            {{1, -1, 0.5}, {0.5, 1, -1}, {-1, 1, 0.5}, {1, 1, -0.5}},
            {{1, -0.5, 1, 1}, {-1, 1, 0.5, 1}, {0.5, 1, -1, -0.5}, {1, 0.5, 0.5, -1}},
            {{1, -1, 0.5, 1}, {-0.5, 1, 1, -1}}};
    /** the pruned weights: {layer, out, in} */
    static final int[][] PRUNED = {{0, 2, 0}, {2, 1, 3}};
    /** the two samples x1, x2 */
    static final float[][] X = {{1, 2, -1}, {2, -1, 1}};

    public final Linear[] fc = new Linear[3];

    public TinyNet() {
        Init init = new Init(0);
        for (int l = 0; l < 3; l++) {
            double[][] t = THETA[l];
            fc[l] = registerModule("fc" + l, new Linear(t[0].length, t.length, false, init));
            float[] v = new float[t.length * t[0].length];
            for (int o = 0; o < t.length; o++) for (int i = 0; i < t[0].length; i++) v[o * t[0].length + i] = (float) t[o][i];
            fc[l].weight().backend().upload(v, fc[l].weight().ptr());
        }
    }

    @Override public Tensor forward(Tensor x, Interpreter it) {
        for (int l = 0; l < 3; l++) {
            x = fc[l].forward(x, it);
            if (l < 2) x = it.relu(x);
        }
        return x;
    }

    /** all ones except the two pruned weights */
    public Masks masks() {
        Masks ones = Masks.ones(this);
        Map<String, float[]> v = new LinkedHashMap<>();
        Map<String, int[]> s = new LinkedHashMap<>();
        for (String n : ones.names()) { v.put(n, ones.values(n)); s.put(n, ones.shape(n)); }
        for (int[] p : PRUNED) v.get("fc" + p[0] + ".weight")[p[1] * THETA[p[0]][0].length + p[2]] = 0f;
        return Masks.of(v, s);
    }

    /** the inputs [2, 3] as a new float32 tensor */
    public static Tensor inputs() {
        return Tensor.of(new float[] {X[0][0], X[0][1], X[0][2], X[1][0], X[1][1], X[1][2]}, 2, 3);
    }
}
