package pxprune.px.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line of {@code metrics.jsonl}: the metrics of epoch {@code epoch} (1-based, the number of
 * epochs completed), trained at learning rate {@code lr}; losses are mean cross-entropies, accuracies
 * fractions in [0, 1]; {@code seconds} is the wall time of the epoch (training and evaluation).
 */
public record EpochMetrics(int epoch, double lr, double trainLoss, double trainAcc, double testLoss, double testAcc,
                           double seconds) {

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", (long) epoch);
        m.put("lr", lr);
        m.put("train_loss", trainLoss);
        m.put("train_acc", trainAcc);
        m.put("test_loss", testLoss);
        m.put("test_acc", testAcc);
        m.put("seconds", seconds);
        return m;
    }

    public static EpochMetrics fromJson(Map<String, Object> m) {
        try {
            return new EpochMetrics(((Number) m.get("epoch")).intValue(), d(m, "lr"), d(m, "train_loss"), d(m, "train_acc"),
                    d(m, "test_loss"), d(m, "test_acc"), d(m, "seconds"));
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
