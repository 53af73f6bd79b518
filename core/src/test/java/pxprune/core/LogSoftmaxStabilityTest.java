package pxprune.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * float32 log-softmax and the cross-entropy gradient at large logits, against float64 on the same
 * float32 inputs. The kernel must compute (x - max) - log(sum): the order x - (max + log(sum))
 * rounds at the logits' magnitude (ulp 1e-3 at 1e4) and was 8e-5 off in the gradient, where
 * PyTorch's float32 is 4e-8 off.
 */
class LogSoftmaxStabilityTest {
    MemoryScope scope;

    @BeforeEach void open() { scope = MemoryScope.open(); }
    @AfterEach void close() { scope.close(); }

    static final int ROWS = 3, K = 5;
    static final int[] LABELS = {1, 4, 0};

    /** logits around `center`, all exactly representable in float32 */
    static float[] logits(float center) {
        float[] offsets = {0.5f, -1.25f, 2f, 0f, -3.5f, 1.75f, 0.25f, -0.75f, 3f, 1f, -2f, 0.125f, 0.5f, -1f, 2.5f};
        float[] x = new float[ROWS * K];
        for (int i = 0; i < x.length; i++) x[i] = center + offsets[i];
        return x;
    }

    /** log-softmax rows in float64 */
    static double[] reference(float[] x) {
        double[] y = new double[x.length];
        for (int r = 0; r < ROWS; r++) {
            double m = Double.NEGATIVE_INFINITY, s = 0;
            for (int k = 0; k < K; k++) m = Math.max(m, x[r * K + k]);
            for (int k = 0; k < K; k++) s += Math.exp(x[r * K + k] - m);
            for (int k = 0; k < K; k++) y[r * K + k] = x[r * K + k] - m - Math.log(s);
        }
        return y;
    }

    /** the largest |got - want| / max(|want|, 1): relative, and absolute for values below 1 */
    static double maxRelativeError(float[] got, double[] want) {
        double worst = 0;
        for (int i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 1));
        return worst;
    }

    void check(float center) {
        float[] x = logits(center);
        double[] y64 = reference(x);
        Tensor logits = Tensor.of(x, ROWS, K).requiresGrad(true);
        float[] y = Ops.logSoftmax(logits).toFloatArray();
        double errY = maxRelativeError(y, y64);
        assertTrue(errY < 1e-7, "log-softmax at logits ~" + center + ": max relative error " + errY);

        Ops.crossEntropy(logits, Tensor.ofInts(LABELS, ROWS)).backward();
        double[] g64 = new double[x.length];
        for (int i = 0; i < x.length; i++)
            g64[i] = (Math.exp(y64[i]) - (LABELS[i / K] == i % K ? 1 : 0)) / ROWS;
        double errG = maxRelativeError(logits.grad().toFloatArray(), g64);
        assertTrue(errG < 1e-7, "cross-entropy gradient at logits ~" + center + ": max relative error " + errG);
    }

    @Test void smallLogits() { check(0f); }

    @Test void logitsOf1e4() { check(1e4f); }

    @Test void negativeLogitsOf1e5() { check(-1e5f); }
}
