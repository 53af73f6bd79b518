package pxprune.datasets;

import java.util.SplittableRandom;

/**
 * Derives independent random streams from a seed and a list of keys (e.g. an epoch number), so
 * that every random choice is a pure function of (seed, keys) and a resumed run repeats it exactly.
 * There is no global random generator anywhere in this package.
 */
public final class Seeds {

    private Seeds() {
    }

    /** A 64-bit seed that depends on {@code seed} and every key, in order (SplitMix64 finalizer chain). */
    public static long derive(long seed, long... keys) {
        long h = mix(seed ^ 0x9E3779B97F4A7C15L);
        for (long k : keys) {
            h = mix(h + 0x9E3779B97F4A7C15L + mix(k));
        }
        return h;
    }

    /** A fresh generator seeded with {@link #derive(long, long...)}. */
    public static SplittableRandom rng(long seed, long... keys) {
        return new SplittableRandom(derive(seed, keys));
    }

    /** Shuffles {@code a} in place (Fisher-Yates) and returns it. */
    static int[] shuffle(int[] a, SplittableRandom rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
