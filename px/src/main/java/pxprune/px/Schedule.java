package pxprune.px;

import java.util.Arrays;
import java.util.Locale;

/** The density targeted after each round r = 0 .. T-1 of iterative pruning to a final density d. */
public enum Schedule {
    /** d_r = d^((r + 1) / T): the same fraction pruned every round (SynFlow's and PX's default) */
    EXPONENTIAL,
    /** d_r = 1 - (1 - d) (r + 1) / T: the same number of weights pruned every round */
    LINEAR;

    public double density(int round, int rounds, double finalDensity) {
        TopK.checkDensity(finalDensity);
        if (rounds < 1 || round < 0 || round >= rounds)
            throw new IllegalArgumentException("round " + round + " of " + rounds + ": rounds must be >= 1 and 0 <= round < rounds");
        if (round == rounds - 1) return finalDensity; // exact at the end, whatever the rounding of pow
        double f = (round + 1.0) / rounds;
        return this == EXPONENTIAL ? Math.pow(finalDensity, f) : 1 - (1 - finalDensity) * f;
    }

    public static Schedule parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown schedule '" + name + "'; valid: "
                    + Arrays.stream(values()).map(v -> v.name().toLowerCase(Locale.ROOT)).toList());
        }
    }
}
