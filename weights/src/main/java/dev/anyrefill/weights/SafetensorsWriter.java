package dev.anyrefill.weights;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Floats;
import dev.anyrefill.tensor.Tensor;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes tensors as a safetensors file in F32 or BF16. The file appears complete or not at
 * all: it is written to a temporary file in the target folder and renamed over the target.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {
    }

    public static void write(Path target, Map<String, Tensor> tensors) {
        write(target, tensors, Map.of(), DType.F32);
    }

    public static void write(Path target, Map<String, Tensor> tensors, Map<String, String> metadata,
                             DType dtype) {
        if (dtype != DType.F32 && dtype != DType.BF16) {
            throw new IllegalArgumentException("can write F32 or BF16, not " + dtype);
        }
        JsonObject header = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add("__metadata__", meta);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            JsonObject entry = new JsonObject();
            entry.addProperty("dtype", dtype.safetensorsName());
            JsonArray shape = new JsonArray();
            for (int d : t.shape()) {
                shape.add(d);
            }
            entry.add("shape", shape);
            JsonArray offsets = new JsonArray();
            long bytes = t.size() * dtype.bytes();
            offsets.add(offset);
            offsets.add(offset + bytes);
            entry.add("data_offsets", offsets);
            header.add(e.getKey(), entry);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // keep the data section 8-byte aligned
        Path tmp = null;
        try {
            tmp = AtomicFiles.tempBeside(target);
            try (OutputStream out = Files.newOutputStream(tmp)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
                out.write(len.array());
                out.write(json);
                for (int i = json.length; i < padded; i++) {
                    out.write(' ');
                }
                for (Tensor t : tensors.values()) {
                    writeData(out, t, dtype);
                }
            }
            AtomicFiles.moveIntoPlace(tmp, target);
        } catch (IOException e) {
            throw new WeightsException(target + ": cannot write: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the temp file is gone or unreachable; nothing else to clean
                }
            }
        }
    }

    private static void writeData(OutputStream out, Tensor t, DType dtype) throws IOException {
        int chunk = 1 << 16;
        float[] values = new float[chunk];
        ByteBuffer buf = ByteBuffer.allocate(chunk * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < t.size(); i += chunk) {
            int n = (int) Math.min(chunk, t.size() - i);
            t.toFloats(i, values, 0, n);
            buf.clear();
            for (int j = 0; j < n; j++) {
                if (dtype == DType.F32) {
                    buf.putFloat(values[j]);
                } else {
                    buf.putShort(Floats.f32ToBf16(values[j]));
                }
            }
            out.write(buf.array(), 0, buf.position());
        }
    }
}
