package dev.anyrefill.text.tokenizer;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP's byte-level BPE tokenizer as Hugging Face's {@code CLIPTokenizer} runs it without
 * ftfy (FLUX's tokenizer/): {@code vocab.json} and {@code merges.txt}; text cleaned (control
 * characters dropped, whitespace collapsed, NFC, spaces around CJK ideographs, lower-cased);
 * split by CLIP's pattern (contractions, letter runs, single digits, other-symbol runs); each
 * word's UTF-8 bytes mapped to printable characters and merged by rank with a {@code </w>}
 * word end; {@code <|startoftext|>} before and {@code <|endoftext|>} after.
 */
public final class ClipTokenizer implements Tokenizer {
    public static final String BOS = "<|startoftext|>";
    public static final String EOS = "<|endoftext|>";
    private static final String WORD_END = "</w>";
    /** HF reads at most this many merges (CLIP's 49152-entry vocabulary less bytes and specials). */
    private static final int MAX_MERGES = 49152 - 256 - 2;
    private static final Pattern WORDS = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);

    private final Path folder;
    private final Map<String, Integer> vocab;
    private final Map<String, Integer> mergeRanks;
    private final char[] byteChars = byteToChar();
    private final Map<String, List<String>> cache = new ConcurrentHashMap<>();
    private final int bosId;
    private final int eosId;
    private final int padId;

    private ClipTokenizer(Path folder, Map<String, Integer> vocab, Map<String, Integer> mergeRanks, String pad) {
        this.folder = folder;
        this.vocab = vocab;
        this.mergeRanks = mergeRanks;
        this.bosId = idOf(BOS);
        this.eosId = idOf(EOS);
        this.padId = idOf(pad);
    }

    private int idOf(String token) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException(folder.resolve("vocab.json") + ": no entry for '" + token + "'");
        }
        return id;
    }

    /** Opens a folder with {@code vocab.json} and {@code merges.txt} (a FLUX repo's tokenizer/). */
    public static ClipTokenizer open(Path folder) {
        Path vocabFile = folder.resolve("vocab.json");
        Path mergesFile = folder.resolve("merges.txt");
        for (Path p : new Path[] {vocabFile, mergesFile}) {
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException(p + ": missing (a CLIP tokenizer folder has vocab.json and merges.txt)");
            }
        }
        Map<String, Integer> vocab = new HashMap<>();
        try {
            JsonObject json = JsonParser.parseString(Files.readString(vocabFile)).getAsJsonObject();
            for (Map.Entry<String, JsonElement> e : json.entrySet()) {
                vocab.put(e.getKey(), e.getValue().getAsInt());
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(vocabFile + ": not a token-to-id JSON object (" + e.getMessage() + ")", e);
        }
        Map<String, Integer> ranks = new HashMap<>();
        try {
            List<String> lines = Files.readAllLines(mergesFile, StandardCharsets.UTF_8);
            // As HF: the first line (the "#version" header) is skipped, blank lines at the end ignored.
            int last = lines.size();
            while (last > 0 && lines.get(last - 1).isBlank()) {
                last--;
            }
            for (int i = 1; i < last && ranks.size() < MAX_MERGES; i++) {
                String[] pair = lines.get(i).trim().split("\\s+");
                if (pair.length != 2) {
                    throw new IllegalArgumentException(mergesFile + ": line " + (i + 1) + " is not a pair of symbols");
                }
                ranks.putIfAbsent(pair[0] + " " + pair[1], i - 1);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(mergesFile + ": cannot read: " + e.getMessage(), e);
        }
        return new ClipTokenizer(folder, vocab, ranks, padToken(folder));
    }

    /** The pad token of special_tokens_map.json when the folder has one, else {@code <|endoftext|>}. */
    private static String padToken(Path folder) {
        Path map = folder.resolve("special_tokens_map.json");
        if (!Files.isRegularFile(map)) {
            return EOS;
        }
        try {
            JsonElement pad = JsonParser.parseString(Files.readString(map)).getAsJsonObject().get("pad_token");
            if (pad == null || pad.isJsonNull()) {
                return EOS;
            }
            return pad.isJsonObject() ? pad.getAsJsonObject().get("content").getAsString() : pad.getAsString();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(map + ": unreadable (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public int[] encode(String text) {
        List<Integer> ids = new ArrayList<>();
        ids.add(bosId);
        // The two special tokens are recognised in the raw text, as HF's added tokens are.
        int start = 0;
        for (int i = text.indexOf('<'); i >= 0; i = text.indexOf('<', i + 1)) {
            String special = text.startsWith(BOS, i) ? BOS : text.startsWith(EOS, i) ? EOS : null;
            if (special != null) {
                encodeWords(text.substring(start, i), ids);
                ids.add(special.equals(BOS) ? bosId : eosId);
                start = i + special.length();
                i = start - 1;
            }
        }
        encodeWords(text.substring(start), ids);
        ids.add(eosId);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public TokenIds encode(String text, int maxLength) {
        return TokenIds.truncateAndPad(encode(text), maxLength, padId);
    }

    private void encodeWords(String text, List<Integer> ids) {
        Matcher m = WORDS.matcher(clean(text));
        while (m.find()) {
            byte[] utf8 = m.group().getBytes(StandardCharsets.UTF_8);
            StringBuilder word = new StringBuilder(utf8.length);
            for (byte b : utf8) {
                word.append(byteChars[b & 0xff]);
            }
            for (String symbol : bpe(word.toString())) {
                Integer id = vocab.get(symbol);
                ids.add(id == null ? eosId : id); // unknown symbols map to unk, which is <|endoftext|>
            }
        }
    }

    /**
     * HF's fallback cleaning when ftfy is absent (BasicTokenizer without accent stripping or
     * punctuation splitting): drop NUL, U+FFFD and control characters, turn whitespace into
     * spaces, pad CJK ideographs with spaces, NFC, lower-case, single spaces between words.
     */
    static String clean(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
                return;
            }
            if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || Character.getType(cp) == Character.SPACE_SEPARATOR) {
                sb.append(' ');
            } else if (isCjk(cp)) {
                sb.append(' ').appendCodePoint(cp).append(' ');
            } else {
                sb.appendCodePoint(cp);
            }
        });
        String normalized = Normalizer.normalize(sb, Normalizer.Form.NFC);
        StringBuilder out = new StringBuilder(normalized.length());
        for (String word : splitOnWhitespace(normalized)) {
            for (String w : splitOnWhitespace(word.toLowerCase(Locale.ROOT))) {
                if (!out.isEmpty()) {
                    out.append(' ');
                }
                out.append(w);
            }
        }
        return out.toString();
    }

    private static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE,
                 Character.UNASSIGNED -> true;
            default -> false;
        };
    }

    private static boolean isCjk(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF)
                || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
                || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    /** Python's {@code str.split()}: runs of any Unicode whitespace separate words. */
    private static List<String> splitOnWhitespace(String s) {
        List<String> words = new ArrayList<>();
        int start = -1;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            boolean space = Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
            if (space && start >= 0) {
                words.add(s.substring(start, i));
                start = -1;
            } else if (!space && start < 0) {
                start = i;
            }
            i += Character.charCount(cp);
        }
        if (start >= 0) {
            words.add(s.substring(start));
        }
        return words;
    }

    /** Merges a byte-mapped word by rank, lowest first, until no ranked pair is left. */
    List<String> bpe(String word) {
        List<String> cached = cache.get(word);
        if (cached != null) {
            return cached;
        }
        List<String> symbols = new ArrayList<>(word.length());
        for (int i = 0; i < word.length(); i++) {
            symbols.add(String.valueOf(word.charAt(i)));
        }
        int lastIndex = symbols.size() - 1;
        symbols.set(lastIndex, symbols.get(lastIndex) + WORD_END);
        while (symbols.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            String first = null;
            String second = null;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer rank = mergeRanks.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (rank != null && rank < bestRank) {
                    bestRank = rank;
                    first = symbols.get(i);
                    second = symbols.get(i + 1);
                }
            }
            if (first == null) {
                break;
            }
            List<String> merged = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); i++) {
                if (i + 1 < symbols.size() && symbols.get(i).equals(first) && symbols.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(symbols.get(i));
                }
            }
            symbols = merged;
        }
        List<String> result = List.copyOf(symbols);
        cache.put(word, result);
        return result;
    }

    /**
     * GPT-2's reversible byte-to-character table: printable Latin-1 bytes stand for
     * themselves, the other 68 bytes take the characters from U+0100 on, in byte order.
     */
    private static char[] byteToChar() {
        char[] table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char) b : (char) next++;
        }
        return table;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    @Override
    public String toString() {
        return "ClipTokenizer(" + folder + ")";
    }
}
