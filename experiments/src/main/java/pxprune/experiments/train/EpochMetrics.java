package pxprune.experiments.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One line of {@code metrics.jsonl}: the metrics of epoch {@code epoch} (1-based, the number of
 * epochs completed), trained at learning rate {@code lr}; losses are mean cross-entropies, accuracies
 * fractions in [0, 1]; {@code seconds} is the wall time of the epoch (training and evaluation).
 *
 * <p>{@code extra} holds further metrics, written after {@code test_acc} in their order: empty for
 * classification; for segmentation ({@link SegmentationTask}) {@code test_miou}, {@code test_pixel_acc}
 * and {@code test_iou} (the list of per-class IoUs, null for a class absent from both prediction and
 * ground truth). For segmentation the losses are per-pixel means and the accuracies pixel accuracies.
 */
public record EpochMetrics(int epoch, double lr, double trainLoss, double trainAcc, double testLoss, double testAcc,
                           double seconds, Map<String, Object> extra) {
    static final List<String> KEYS = List.of("epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc", "seconds");

    public EpochMetrics {
        extra = extra == null || extra.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extra));
        for (String k : extra.keySet())
            if (KEYS.contains(k)) throw new IllegalArgumentException("EpochMetrics: extra metric '" + k + "' is one of the fixed keys " + KEYS);
    }

    /** the metrics of a classification epoch (no extra metrics) */
    public EpochMetrics(int epoch, double lr, double trainLoss, double trainAcc, double testLoss, double testAcc, double seconds) {
        this(epoch, lr, trainLoss, trainAcc, testLoss, testAcc, seconds, Map.of());
    }

    /** the same metrics with another wall time */
    public EpochMetrics withSeconds(double s) {
        return new EpochMetrics(epoch, lr, trainLoss, trainAcc, testLoss, testAcc, s, extra);
    }

    /** an extra metric as a number (NaN if it is missing or no number) */
    public double extraNumber(String key) {
        Object v = extra.get(key);
        return v instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", (long) epoch);
        m.put("lr", lr);
        m.put("train_loss", trainLoss);
        m.put("train_acc", trainAcc);
        m.put("test_loss", testLoss);
        m.put("test_acc", testAcc);
        m.putAll(extra);
        m.put("seconds", seconds);
        return m;
    }

    public static EpochMetrics fromJson(Map<String, Object> m) {
        try {
            Map<String, Object> extra = new LinkedHashMap<>();
            m.forEach((k, v) -> { if (!KEYS.contains(k)) extra.put(k, v); });
            return new EpochMetrics(((Number) m.get("epoch")).intValue(), d(m, "lr"), d(m, "train_loss"), d(m, "train_acc"),
                    d(m, "test_loss"), d(m, "test_acc"), d(m, "seconds"), extra);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not an epoch metrics record (keys epoch, lr, train_loss, train_acc, "
                    + "test_loss, test_acc, seconds): " + m);
        }
    }

    private static double d(Map<String, Object> m, String k) {
        Object v = m.get(k);
        // non-finite values are written as null by Json
        return v == null ? Double.NaN : ((Number) v).doubleValue();
    }
}
