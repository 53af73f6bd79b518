package pxprune.experiments.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import pxprune.px.ScoringData;

/**
 * The pixel confusion matrix of a segmentation evaluation: {@code count(t, p)} is the number of
 * pixels of ground-truth class t predicted as class p; pixels labelled {@link ScoringData#IGNORE}
 * are skipped. From it (see docs/segmentation.md):
 * <ul>
 * <li>IoU of class c = TP / (TP + FP + FN), with TP = count(c, c), FP = the pixels predicted c of
 *     another true class, FN = the pixels of true class c predicted otherwise; NaN when TP + FP + FN
 *     is 0 (the class occurs neither in the prediction nor in the ground truth);</li>
 * <li>mean IoU = the mean of the IoUs that are not NaN (the usual Pascal VOC definition: classes
 *     absent from both prediction and ground truth do not count);</li>
 * <li>pixel accuracy = the fraction of labelled pixels predicted correctly.</li>
 * </ul>
 * Both are 0 when no pixel was labelled. Not thread-safe; one per evaluation.
 */
public final class ConfusionMatrix {
    private final int k;
    private final long[] m;

    public ConfusionMatrix(int numClasses) {
        if (numClasses < 1 || numClasses > ScoringData.IGNORE)
            throw new IllegalArgumentException("ConfusionMatrix: numClasses must be in 1.." + ScoringData.IGNORE + ", got " + numClasses);
        this.k = numClasses;
        this.m = new long[numClasses * numClasses];
    }

    public int numClasses() { return k; }

    /**
     * Adds label maps of equal length: truth in 0..k-1 or {@link ScoringData#IGNORE} (skipped),
     * predictions in 0..k-1.
     */
    public void add(int[] truth, int[] predicted) {
        if (truth.length != predicted.length)
            throw new IllegalArgumentException("ConfusionMatrix: " + truth.length + " true labels but " + predicted.length + " predictions");
        for (int i = 0; i < truth.length; i++) {
            int t = truth[i];
            if (t == ScoringData.IGNORE) continue;
            int p = predicted[i];
            if (t < 0 || t >= k) throw new IllegalArgumentException("ConfusionMatrix: true label " + t + " at pixel " + i + " outside 0.."
                    + (k - 1) + " and not the ignore label " + ScoringData.IGNORE);
            if (p < 0 || p >= k) throw new IllegalArgumentException("ConfusionMatrix: predicted class " + p + " at pixel " + i
                    + " outside 0.." + (k - 1));
            m[t * k + p]++;
        }
    }

    /**
     * The predicted class of every pixel of logits [n, k, h, w] (flat, NCHW): the class of the
     * largest logit, the first one on ties; [n, h, w] flat.
     */
    public static int[] argmax(float[] logits, int n, int k, int h, int w) {
        int hw = h * w;
        if ((long) n * k * hw != logits.length)
            throw new IllegalArgumentException("argmax: " + logits.length + " logits are not [" + n + ", " + k + ", " + h + ", " + w + "]");
        int[] out = new int[n * hw];
        for (int i = 0; i < n; i++) {
            int base = i * k * hw;
            float[] best = new float[hw];
            System.arraycopy(logits, base, best, 0, hw);
            for (int c = 1; c < k; c++) {
                int off = base + c * hw;
                for (int j = 0; j < hw; j++) {
                    float v = logits[off + j];
                    if (v > best[j]) { best[j] = v; out[i * hw + j] = c; }
                }
            }
        }
        return out;
    }

    /** adds another matrix of the same classes */
    public void addAll(ConfusionMatrix o) {
        if (o.k != k) throw new IllegalArgumentException("ConfusionMatrix: " + o.k + " classes added to " + k);
        for (int i = 0; i < m.length; i++) m[i] += o.m[i];
    }

    /** pixels of true class t predicted as p */
    public long count(int t, int p) { return m[t * k + p]; }

    /** labelled pixels counted */
    public long total() {
        long s = 0;
        for (long v : m) s += v;
        return s;
    }

    /** labelled pixels predicted correctly */
    public long correct() {
        long s = 0;
        for (int c = 0; c < k; c++) s += m[c * k + c];
        return s;
    }

    /** the fraction of labelled pixels predicted correctly (0 when none is labelled) */
    public double pixelAccuracy() {
        long t = total();
        return t == 0 ? 0 : (double) correct() / t;
    }

    /** per class TP / (TP + FP + FN), NaN for a class absent from both prediction and truth */
    public double[] iou() {
        double[] out = new double[k];
        for (int c = 0; c < k; c++) {
            long tp = m[c * k + c], fp = 0, fn = 0;
            for (int o = 0; o < k; o++) {
                if (o == c) continue;
                fp += m[o * k + c];
                fn += m[c * k + o];
            }
            long d = tp + fp + fn;
            out[c] = d == 0 ? Double.NaN : (double) tp / d;
        }
        return out;
    }

    /** the mean of the per-class IoUs over the classes present in prediction or truth (0 when none is) */
    public double meanIou() {
        double s = 0;
        int n = 0;
        for (double v : iou()) if (!Double.isNaN(v)) { s += v; n++; }
        return n == 0 ? 0 : s / n;
    }

    /** the per-class IoUs as a JSON list: numbers, null for a class absent from both */
    public List<Object> iouJson() {
        List<Object> out = new ArrayList<>();
        for (double v : iou()) out.add(Double.isNaN(v) ? null : v);
        return out;
    }

    /**
     * The matrix as CSV: header {@code true\predicted,<class names>,iou}, then one row per true class
     * (its name, the pixel counts per predicted class, its IoU or empty when absent from both).
     */
    public String csv(List<String> classNames) {
        if (classNames.size() != k)
            throw new IllegalArgumentException("ConfusionMatrix: " + classNames.size() + " class names for " + k + " classes");
        StringBuilder sb = new StringBuilder("true\\predicted");
        for (String n : classNames) sb.append(',').append(csvField(n));
        sb.append(",iou\n");
        double[] iou = iou();
        for (int t = 0; t < k; t++) {
            sb.append(csvField(classNames.get(t)));
            for (int p = 0; p < k; p++) sb.append(',').append(m[t * k + p]);
            sb.append(',').append(Double.isNaN(iou[t]) ? "" : String.format(Locale.ROOT, "%.6f", iou[t])).append('\n');
        }
        return sb.toString();
    }

    private static String csvField(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
