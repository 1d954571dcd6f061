package dev.anyrefill.dit;

/**
 * How LoRAs are applied to the model's linear layers.
 *
 * <ul>
 *   <li>{@link #RUNTIME}: unmerged; each forward adds {@code s B (A x)} with two thin matmuls.
 *       W0 is untouched, extra memory is the LoRA itself, LoRAs can change between runs; costs
 *       about {@code rank (in + out) / (in out)} more arithmetic per layer (8 % at rank 128 on
 *       FLUX's 3072-wide layers).</li>
 *   <li>{@link #MERGED}: {@code W0 + sum s B A} computed once into a private F32 copy of each
 *       touched weight (the mapped file is never written); forward costs nothing extra, but the
 *       copy takes 4 bytes per touched parameter (twice the BF16 weight).</li>
 * </ul>
 */
public enum LoraMode {
    MERGED, RUNTIME;

    /** The mode a command line names ("merged" or "runtime", any case). */
    public static LoraMode fromName(String name) {
        for (LoraMode m : values()) {
            if (m.name().equalsIgnoreCase(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("--lora-mode must be merged or runtime, not '" + name + "'");
    }
}
