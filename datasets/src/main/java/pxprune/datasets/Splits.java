package pxprune.datasets;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Train/test splits. */
public final class Splits {

    private Splits() {
    }

    /** A split of one dataset; {@code trainIdx}/{@code testIdx} index the original dataset, ascending. */
    public record Split(Dataset train, Dataset test, int[] trainIdx, int[] testIdx) {
    }

    /**
     * Stratified split: from every class, {@code round(count * testFraction)} examples drawn at random go
     * to the test set and the rest to the train set, so class proportions are kept. Deterministic for a
     * seed. Both index arrays are sorted ascending.
     *
     * @throws IllegalArgumentException if testFraction is not in (0, 1) or either side would be empty
     */
    public static Split stratifiedSplit(Dataset data, double testFraction, long seed) {
        if (!(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("testFraction must be in (0, 1), got " + testFraction);
        }
        SplittableRandom rng = Seeds.rng(seed);
        int[] train = new int[data.size()];
        int[] test = new int[data.size()];
        int nTrain = 0;
        int nTest = 0;
        for (int[] members : data.indicesByClass()) {
            Seeds.shuffle(members, rng);
            int k = (int) Math.round(members.length * testFraction);
            System.arraycopy(members, 0, test, nTest, k);
            System.arraycopy(members, k, train, nTrain, members.length - k);
            nTest += k;
            nTrain += members.length - k;
        }
        if (nTrain == 0 || nTest == 0) {
            throw new IllegalArgumentException("Splitting " + data + " with testFraction " + testFraction
                    + " leaves the " + (nTest == 0 ? "test" : "train") + " set empty; use more examples or another fraction.");
        }
        int[] trainIdx = Arrays.copyOf(train, nTrain);
        int[] testIdx = Arrays.copyOf(test, nTest);
        Arrays.sort(trainIdx);
        Arrays.sort(testIdx);
        return new Split(data.subset(trainIdx), data.subset(testIdx), trainIdx, testIdx);
    }
}
