package dev.anyrefill.weights;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;

import java.io.IOException;
import java.io.StringReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A safetensors file, memory-mapped. Layout: an 8-byte little-endian header length, a JSON
 * header ({@code name: {dtype, shape, data_offsets: [begin, end]}}, optional
 * {@code __metadata__}), then the data section the offsets count from.
 *
 * <p>The whole file is mapped once (files over 2 GB work: the mapping is a
 * {@link MemorySegment}, not a ByteBuffer) and every tensor is a slice of it, so opening a
 * 24 GB checkpoint reads only its header. Every header entry is validated before any tensor
 * is handed out, so a malformed file fails with a message and never reads outside the mapping.
 */
public final class SafetensorsFile implements TensorSource {
    /** Headers larger than this are refused rather than parsed (the format itself caps at 100 MB). */
    private static final long MAX_HEADER = 100L << 20;

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, TensorInfo> infos;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data,
                            Map<String, TensorInfo> infos, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.infos = infos;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < 8) {
                throw fail(path, "file is " + fileSize + " bytes, shorter than the 8-byte header length");
            }
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, fileSize, arena);
            long headerLen = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen < 2 || headerLen > MAX_HEADER || headerLen > fileSize - 8) {
                throw fail(path, "header length " + Long.toUnsignedString(headerLen) + " does not fit a file of "
                        + fileSize + " bytes");
            }
            byte[] header = file.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment dataSection = file.asSlice(8 + headerLen);
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> infos = parseHeader(path, header, dataSection.byteSize(), metadata);
            return new SafetensorsFile(path, arena, dataSection, infos, metadata);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new WeightsException(path + ": no such file");
        } catch (IOException e) {
            arena.close();
            throw new WeightsException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, TensorInfo> parseHeader(Path path, byte[] header, long dataSize,
                                                       Map<String, String> metadata) {
        Map<String, JsonElement> root = readTopLevel(path, new String(header, StandardCharsets.UTF_8));
        List<TensorInfo> list = new ArrayList<>();
        for (Map.Entry<String, JsonElement> entry : root.entrySet()) {
            String name = entry.getKey();
            if (name.equals("__metadata__")) {
                if (!entry.getValue().isJsonObject()) {
                    throw fail(path, "__metadata__ is not a JSON object");
                }
                for (Map.Entry<String, JsonElement> m : entry.getValue().getAsJsonObject().entrySet()) {
                    JsonElement v = m.getValue();
                    metadata.put(m.getKey(), v.isJsonPrimitive() ? v.getAsString() : v.toString());
                }
                continue;
            }
            list.add(parseEntry(path, name, entry.getValue(), dataSize));
        }
        // Offsets must tile the data section in order: sorted by begin, each ending where the
        // next begins (safetensors writes them contiguously), never overlapping.
        List<TensorInfo> byOffset = new ArrayList<>(list);
        byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long previousEnd = 0;
        String previous = null;
        for (TensorInfo info : byOffset) {
            if (info.begin() < previousEnd) {
                throw fail(path, "tensor '" + info.name() + "' data [" + info.begin() + ", " + info.end()
                        + ") overlaps tensor '" + previous + "' ending at " + previousEnd);
            }
            previousEnd = info.end();
            previous = info.name();
        }
        Map<String, TensorInfo> infos = new LinkedHashMap<>();
        for (TensorInfo info : list) {
            infos.put(info.name(), info);
        }
        return Collections.unmodifiableMap(infos);
    }

    /**
     * The header's top-level members in order. Read member by member (rather than as one JSON
     * object) so a name that occurs twice is an error instead of silently keeping the last.
     */
    private static Map<String, JsonElement> readTopLevel(Path path, String json) {
        Map<String, JsonElement> members = new LinkedHashMap<>();
        try (JsonReader reader = new JsonReader(new StringReader(json))) {
            if (reader.peek() != JsonToken.BEGIN_OBJECT) {
                throw fail(path, "header is not a JSON object");
            }
            reader.beginObject();
            while (reader.hasNext()) {
                String name = reader.nextName();
                JsonElement value = JsonParser.parseReader(reader);
                if (members.put(name, value) != null) {
                    throw fail(path, "tensor '" + name + "' appears twice in the header (duplicate name)");
                }
            }
            reader.endObject();
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw fail(path, "header has trailing content after the JSON object");
            }
            return members;
        } catch (IOException | RuntimeException e) {
            if (e instanceof WeightsException we) {
                throw we;
            }
            // Gson's messages end with advice for its own callers ("See https://...", "Use JsonReader..."): keep the fact
            String reason = String.valueOf(e.getMessage()).split("\n")[0]
                    .replaceAll("Use JsonReader\\.setStrictness\\([^)]*\\) to accept malformed JSON ", "malformed ")
                    .replaceAll("\\s*See https?://\\S+", "");
            throw fail(path, "header is not valid JSON (" + reason.strip() + ")");
        }
    }

    private static TensorInfo parseEntry(Path path, String name, JsonElement value, long dataSize) {
        if (!value.isJsonObject()) {
            throw fail(path, "tensor '" + name + "': entry is not a JSON object");
        }
        JsonObject o = value.getAsJsonObject();
        try {
            JsonElement dt = o.get("dtype");
            if (dt == null || !dt.isJsonPrimitive()) {
                throw fail(path, "tensor '" + name + "': no dtype");
            }
            DType dtype = DType.fromSafetensors(dt.getAsString());
            if (dtype == null) {
                throw fail(path, "tensor '" + name + "': unknown dtype '" + dt.getAsString() + "'");
            }
            JsonElement sh = o.get("shape");
            if (sh == null || !sh.isJsonArray()) {
                throw fail(path, "tensor '" + name + "': no shape");
            }
            JsonArray shapeArray = sh.getAsJsonArray();
            int[] shape = new int[shapeArray.size()];
            for (int i = 0; i < shape.length; i++) {
                long d = shapeArray.get(i).getAsLong();
                if (d < 0 || d > Integer.MAX_VALUE) {
                    throw fail(path, "tensor '" + name + "': dimension " + d + " out of range");
                }
                shape[i] = (int) d;
            }
            JsonElement off = o.get("data_offsets");
            if (off == null || !off.isJsonArray() || off.getAsJsonArray().size() != 2) {
                throw fail(path, "tensor '" + name + "': data_offsets is not [begin, end]");
            }
            long begin = off.getAsJsonArray().get(0).getAsLong();
            long end = off.getAsJsonArray().get(1).getAsLong();
            if (begin < 0 || end < begin) {
                throw fail(path, "tensor '" + name + "': data_offsets [" + begin + ", " + end + "] out of order");
            }
            if (end > dataSize) {
                throw fail(path, "tensor '" + name + "': data_offsets end " + end
                        + " beyond the data section of " + dataSize + " bytes (file truncated?)");
            }
            long expected;
            try {
                expected = Math.multiplyExact(Tensor.count(shape), dtype.bytes());
            } catch (ArithmeticException e) {
                throw fail(path, "tensor '" + name + "': shape too large");
            }
            if (end - begin != expected) {
                throw fail(path, "tensor '" + name + "': shape " + java.util.Arrays.toString(shape) + " of "
                        + dtype + " needs " + expected + " bytes, data_offsets span " + (end - begin));
            }
            return new TensorInfo(name, dtype, shape, begin, end);
        } catch (IllegalStateException | NumberFormatException | UnsupportedOperationException e) {
            throw fail(path, "tensor '" + name + "': malformed entry (" + e.getMessage() + ")");
        }
    }

    private static WeightsException fail(Path path, String reason) {
        return new WeightsException(path + ": " + reason);
    }

    public Path path() {
        return path;
    }

    @Override
    public String origin() {
        return path.toString();
    }

    /** The {@code __metadata__} strings of the header. */
    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    public Map<String, TensorInfo> infos() {
        return infos;
    }

    public TensorInfo info(String name) {
        TensorInfo info = infos.get(name);
        if (info == null) {
            throw new WeightsException(path + ": no tensor '" + name + "'");
        }
        return info;
    }

    @Override
    public Set<String> names() {
        return infos.keySet();
    }

    @Override
    public boolean contains(String name) {
        return infos.containsKey(name);
    }

    @Override
    public Tensor get(String name) {
        TensorInfo info = info(name);
        return Tensor.view(info.dtype(), info.shape(), data.asSlice(info.begin(), info.end() - info.begin()));
    }

    /** Unmaps the file; tensors taken from it must no longer be used. */
    @Override
    public void close() {
        arena.close();
    }
}
