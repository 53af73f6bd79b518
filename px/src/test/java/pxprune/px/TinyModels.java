package pxprune.px;

import pxprune.core.Tensor;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Init;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.MaxPool2d;
import pxprune.nn.Module;
import pxprune.nn.Resample;

/**
 * Small test-only models: bias-free ReLU MLPs and CNNs, with and without batch norm, and tiny
 * bias-free networks for the rules of docs/px-method.md#pooling-resampling-sums (max pooling, resampling, dense
 * outputs, concatenation).
 */
public final class TinyModels {
    private TinyModels() {}

    /** Linear(sizes[0] -> sizes[1]), ReLU, ..., Linear(-> sizes[last]); no biases unless asked */
    public static final class Mlp extends Module {
        public final Linear[] fc;

        public Mlp(long seed, boolean bias, int... sizes) {
            Init init = new Init(seed);
            fc = new Linear[sizes.length - 1];
            for (int i = 0; i < fc.length; i++) fc[i] = registerModule("fc" + i, new Linear(sizes[i], sizes[i + 1], bias, init));
        }

        public Mlp(long seed, int... sizes) { this(seed, false, sizes); }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            for (int i = 0; i < fc.length; i++) {
                x = fc[i].forward(x, it);
                if (i < fc.length - 1) x = it.relu(x);
            }
            return x;
        }
    }

    /**
     * On 1 x 4 x 4 inputs: conv1 1->2 (3x3, stride 1, pad 1) [bn1] ReLU, conv2 2->3 (3x3, stride 2,
     * pad 1) [bn2] ReLU, flatten (3 x 2 x 2), fc 12 -> 2. No biases (unless asked).
     */
    public static final class Cnn extends Module {
        public final Conv2d conv1, conv2;
        public final BatchNorm bn1, bn2;
        public final Linear fc;

        public Cnn(long seed, boolean bn, boolean bias) {
            Init init = new Init(seed);
            conv1 = registerModule("conv1", new Conv2d(1, 2, 3, 1, 1, bias, init));
            bn1 = bn ? registerModule("bn1", new BatchNorm(2)) : null;
            conv2 = registerModule("conv2", new Conv2d(2, 3, 3, 2, 1, bias, init));
            bn2 = bn ? registerModule("bn2", new BatchNorm(3)) : null;
            fc = registerModule("fc", new Linear(12, 2, bias, init));
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            Tensor h = conv1.forward(x, it);
            if (bn1 != null) h = bn1.forward(h, it);
            h = it.relu(h);
            h = conv2.forward(h, it);
            if (bn2 != null) h = bn2.forward(h, it);
            h = it.relu(h);
            return fc.forward(it.flatten(h, 1), it);
        }
    }

    /** On 1 x size x size inputs: conv 1->2 (3x3, stride 1, pad 1) ReLU, max pool (kernel, stride, padding), flatten, fc -> classes. */
    public static final class PoolNet extends Module {
        public final Conv2d conv;
        public final MaxPool2d pool;
        public final Linear fc;
        public final int size, pooled;

        public PoolNet(long seed, int size, int kernel, int stride, int padding, int classes) {
            Init init = new Init(seed);
            this.size = size;
            pooled = (size + 2 * padding - kernel) / stride + 1;
            conv = registerModule("conv", new Conv2d(1, 2, 3, 1, 1, false, init));
            pool = registerModule("pool", new MaxPool2d(kernel, stride, padding));
            fc = registerModule("fc", new Linear(2 * pooled * pooled, classes, false, init));
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            Tensor h = pool.forward(it.relu(conv.forward(x, it)), it);
            return fc.forward(it.flatten(h, 1), it);
        }
    }

    /**
     * On 1 x size x size inputs: conv1 1->2 (3x3, pad 1) ReLU, bilinear resampling to out x out
     * (align_corners as given), conv2 2->classes (3x3, pad 1): a dense output [classes, out, out].
     */
    public static final class UpNet extends Module {
        public final Conv2d conv1, conv2;
        public final Resample up;

        public UpNet(long seed, int classes, int out, boolean alignCorners) {
            Init init = new Init(seed);
            conv1 = registerModule("conv1", new Conv2d(1, 2, 3, 1, 1, false, init));
            up = Resample.bilinear(out, out, alignCorners);
            conv2 = registerModule("conv2", new Conv2d(2, classes, 3, 1, 1, false, init));
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            return conv2.forward(up.apply(it.relu(conv1.forward(x, it)), it), it);
        }
    }

    /** On 1 x size x size inputs: conv 1->2 (3x3, pad 1) ReLU, adaptive average pooling to out x out, flatten, fc -> classes. */
    public static final class AdaptiveNet extends Module {
        public final Conv2d conv;
        public final Resample pool;
        public final Linear fc;

        public AdaptiveNet(long seed, int out, int classes) {
            Init init = new Init(seed);
            conv = registerModule("conv", new Conv2d(1, 2, 3, 1, 1, false, init));
            pool = Resample.adaptiveAvg(out, out);
            fc = registerModule("fc", new Linear(2 * out * out, classes, false, init));
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            return fc.forward(it.flatten(pool.apply(it.relu(conv.forward(x, it)), it), 1), it);
        }
    }

    /**
     * On 1 x 4 x 4 inputs, two branches concatenated along the channels: a = ReLU(convA 1->2),
     * b = ReLU(convB2 1->2 (ReLU(convB1 1->1))) (all 3x3, pad 1); cat(a, b) [4, 4, 4], flatten, fc 64 -> 2.
     */
    public static final class ConcatNet extends Module {
        public final Conv2d convA, convB1, convB2;
        public final Linear fc;

        public ConcatNet(long seed) {
            Init init = new Init(seed);
            convA = registerModule("convA", new Conv2d(1, 2, 3, 1, 1, false, init));
            convB1 = registerModule("convB1", new Conv2d(1, 1, 3, 1, 1, false, init));
            convB2 = registerModule("convB2", new Conv2d(1, 2, 3, 1, 1, false, init));
            fc = registerModule("fc", new Linear(64, 2, false, init));
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            Tensor a = it.relu(convA.forward(x, it));
            Tensor b = it.relu(convB2.forward(it.relu(convB1.forward(x, it)), it));
            return fc.forward(it.flatten(it.cat(1, a, b), 1), it);
        }
    }

    /** overwrites a tensor's values */
    public static void set(Tensor t, double... v) {
        switch (t.dtype()) {
            case F32 -> { float[] f = new float[v.length]; for (int i = 0; i < v.length; i++) f[i] = (float) v[i]; t.backend().upload(f, t.ptr()); }
            case F64 -> t.backend().upload(v, t.ptr());
            case I32 -> { int[] f = new int[v.length]; for (int i = 0; i < v.length; i++) f[i] = (int) v[i]; t.backend().upload(f, t.ptr()); }
        }
    }

    /** gives every batch norm non-trivial gamma, beta, running mean and variance */
    public static void perturbBatchNorms(Module model, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (Module m : model.namedModules().values()) {
            if (!(m instanceof BatchNorm bn)) continue;
            int c = bn.channels;
            double[] g = new double[c], b = new double[c], mu = new double[c], var = new double[c];
            for (int i = 0; i < c; i++) {
                g[i] = 0.5 + r.nextDouble();
                b[i] = r.nextDouble() - 0.5;
                mu[i] = 0.3 * (r.nextDouble() - 0.5);
                var[i] = 0.5 + r.nextDouble();
            }
            set(bn.weight(), g);
            set(bn.bias(), b);
            set(bn.runningMean(), mu);
            set(bn.runningVar(), var);
        }
    }

    /** n random inputs of the given per-sample shape, N(0,1) */
    public static Tensor randomInputs(long seed, int n, int... sample) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        int per = 1;
        for (int s : sample) per *= s;
        float[] x = new float[n * per];
        for (int i = 0; i < x.length; i++) x[i] = (float) (Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble()));
        int[] shape = new int[sample.length + 1];
        shape[0] = n;
        System.arraycopy(sample, 0, shape, 1, sample.length);
        return Tensor.of(x, shape);
    }

    /** random masks keeping about the given fraction of every layer (at least one weight per layer) */
    public static Masks randomMasks(Module model, double keep, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        Masks ones = Masks.ones(model);
        java.util.Map<String, float[]> v = new java.util.LinkedHashMap<>();
        java.util.Map<String, int[]> s = new java.util.LinkedHashMap<>();
        for (String n : ones.names()) {
            float[] m = new float[(int) ones.numel(n)];
            for (int i = 0; i < m.length; i++) m[i] = r.nextDouble() < keep ? 1f : 0f;
            m[0] = 1f;
            v.put(n, m);
            s.put(n, ones.shape(n));
        }
        return Masks.of(v, s);
    }
}
