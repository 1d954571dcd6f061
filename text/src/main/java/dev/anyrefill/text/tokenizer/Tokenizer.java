package dev.anyrefill.text.tokenizer;

/** Text to token ids, the way the Hugging Face tokenizer of a text encoder does it. */
public interface Tokenizer extends AutoCloseable {

    /** The ids of a text with the model's special tokens (bos, eos), neither truncated nor padded. */
    int[] encode(String text);

    /**
     * The ids truncated to {@code maxLength} (the closing special token kept) and padded to
     * exactly {@code maxLength} with the pad id, as the FLUX pipeline calls its tokenizers.
     */
    TokenIds encode(String text, int maxLength);

    @Override
    default void close() {
    }
}
