package dev.anyrefill.training;

import java.util.SplittableRandom;

/**
 * Seeds derived from the run's seed and what they are for, so that every random draw of a
 * run (a sample's pair, time, noise, caption dropout, the masks of a pair) depends on the
 * seed and its own coordinates only, never on how many draws came before: a resumed run
 * draws exactly what the uninterrupted one would have.
 */
final class Seeds {
    private Seeds() {
    }

    /** A seed for a named purpose. */
    static long of(long seed, String purpose) {
        long h = seed;
        for (int i = 0; i < purpose.length(); i++) {
            h = new SplittableRandom(h * 31 + purpose.charAt(i)).nextLong();
        }
        return h;
    }

    /** A seed for a purpose and an index (a step's sample, an epoch). */
    static long of(long seed, String purpose, long index) {
        return new SplittableRandom(of(seed, purpose) ^ index * 0x9E3779B97F4A7C15L).nextLong();
    }
}
