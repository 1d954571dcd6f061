package dev.anyrefill.text.tokenizer;

/**
 * A padded token sequence: the ids and the attention mask (1 for a real token, 0 for padding).
 * FLUX passes no mask to its encoders; it is kept for callers and tests that want it.
 */
public record TokenIds(int[] ids, int[] mask) {
    public TokenIds {
        if (ids.length != mask.length) {
            throw new IllegalArgumentException(ids.length + " ids with a mask of " + mask.length);
        }
    }

    /** Truncates {@code ids} to {@code maxLength}, keeping its last id (eos) at the end, and pads. */
    static TokenIds truncateAndPad(int[] ids, int maxLength, int padId) {
        if (maxLength < 1) {
            throw new IllegalArgumentException("max length " + maxLength + " is below 1");
        }
        int[] out = new int[maxLength];
        int[] mask = new int[maxLength];
        java.util.Arrays.fill(out, padId);
        int n = Math.min(ids.length, maxLength);
        System.arraycopy(ids, 0, out, 0, n);
        if (ids.length > maxLength) {
            out[maxLength - 1] = ids[ids.length - 1];
        }
        java.util.Arrays.fill(mask, 0, n, 1);
        return new TokenIds(out, mask);
    }
}
