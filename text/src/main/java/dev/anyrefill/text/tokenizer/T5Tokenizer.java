package dev.anyrefill.text.tokenizer;

import ai.djl.sentencepiece.SpProcessor;
import ai.djl.sentencepiece.SpTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * T5's tokenizer as Hugging Face's {@code T5Tokenizer} runs it (legacy mode, FLUX's
 * tokenizer_2): Google's SentencePiece unigram model from {@code spiece.model} (its own
 * nmt_nfkc normalisation and whitespace handling), the special tokens {@code </s>},
 * {@code <pad>}, {@code <unk>} and the 100 {@code <extra_id_N>} sentinels recognised in the
 * text before SentencePiece sees it, and {@code </s>} appended.
 *
 * <p>SentencePiece itself runs in the native library DJL bundles; normalisation is a table
 * inside the model file, so leaving it to Google's implementation keeps every corner of
 * Unicode as the reference handles it.
 */
public final class T5Tokenizer implements Tokenizer {
    /** Sentinel tokens T5 adds after the SentencePiece vocabulary, highest id first. */
    public static final int EXTRA_IDS = 100;

    private final Path model;
    private final SpTokenizer sentencePiece;
    private final SpProcessor processor;
    private final Map<String, Integer> specials;
    private final int padId;
    private final int eosId;

    private T5Tokenizer(Path model, SpTokenizer sentencePiece, int pieces) {
        this.model = model;
        this.sentencePiece = sentencePiece;
        this.processor = sentencePiece.getProcessor();
        this.padId = processor.getId("<pad>");
        this.eosId = processor.getId("</s>");
        Map<String, Integer> map = new LinkedHashMap<>();
        for (String s : new String[] {"</s>", "<pad>", "<unk>"}) {
            map.put(s, processor.getId(s));
        }
        for (int i = 0; i < EXTRA_IDS; i++) {
            map.put("<extra_id_" + i + ">", pieces + EXTRA_IDS - 1 - i);
        }
        this.specials = map;
    }

    /** Opens {@code spiece.model}, or the folder holding it (a FLUX repo's tokenizer_2/). */
    public static T5Tokenizer open(Path path) {
        Path model = Files.isDirectory(path) ? path.resolve("spiece.model") : path;
        if (!Files.isRegularFile(model)) {
            throw new IllegalArgumentException(model + ": no SentencePiece model (spiece.model) there");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(model);
        } catch (IOException e) {
            throw new IllegalArgumentException(model + ": cannot read: " + e.getMessage(), e);
        }
        int pieces = countPieces(model, bytes);
        try {
            return new T5Tokenizer(model, new SpTokenizer(bytes), pieces);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(model + ": not a SentencePiece model (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Number of pieces in a SentencePiece ModelProto: the count of its top-level field 1
     * (repeated SentencePiece). The sentinel ids follow the last piece.
     */
    static int countPieces(Path model, byte[] b) {
        int pieces = 0;
        int[] at = {0};
        while (at[0] < b.length) {
            long key = varint(model, b, at);
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            switch (wire) {
                case 0 -> varint(model, b, at);
                case 1 -> at[0] += 8;
                case 5 -> at[0] += 4;
                case 2 -> {
                    long len = varint(model, b, at);
                    if (len < 0 || len > b.length - at[0]) {
                        throw new IllegalArgumentException(model + ": truncated SentencePiece model");
                    }
                    at[0] += (int) len;
                    if (field == 1) {
                        pieces++;
                    }
                }
                default -> throw new IllegalArgumentException(model + ": not a SentencePiece model (wire type " + wire + ")");
            }
        }
        if (pieces == 0) {
            throw new IllegalArgumentException(model + ": SentencePiece model holds no pieces");
        }
        return pieces;
    }

    private static long varint(Path model, byte[] b, int[] at) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (at[0] >= b.length) {
                throw new IllegalArgumentException(model + ": truncated SentencePiece model");
            }
            byte x = b[at[0]++];
            v |= (long) (x & 0x7f) << shift;
            if (x >= 0) {
                return v;
            }
        }
        throw new IllegalArgumentException(model + ": malformed varint in SentencePiece model");
    }

    @Override
    public int[] encode(String text) {
        List<Integer> ids = new ArrayList<>();
        // Special tokens are cut out of the text first; SentencePiece encodes each piece between
        // them on its own (dropping surrounding whitespace and adding its dummy-prefix space).
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            String special = specialAt(text, i);
            if (special == null) {
                i++;
                continue;
            }
            encodePiece(text.substring(start, i), ids);
            ids.add(specials.get(special));
            i += special.length();
            start = i;
        }
        encodePiece(text.substring(start), ids);
        ids.add(eosId);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private String specialAt(String text, int i) {
        if (text.charAt(i) != '<') {
            return null;
        }
        String best = null;
        for (String s : specials.keySet()) {
            if (text.startsWith(s, i) && (best == null || s.length() > best.length())) {
                best = s;
            }
        }
        return best;
    }

    private void encodePiece(String piece, List<Integer> ids) {
        if (piece.isEmpty()) {
            return;
        }
        for (int id : processor.encode(piece)) {
            ids.add(id);
        }
    }

    @Override
    public TokenIds encode(String text, int maxLength) {
        return TokenIds.truncateAndPad(encode(text), maxLength, padId);
    }

    public int padId() {
        return padId;
    }

    public int eosId() {
        return eosId;
    }

    @Override
    public void close() {
        sentencePiece.close();
    }

    @Override
    public String toString() {
        return "T5Tokenizer(" + model + ")";
    }
}
