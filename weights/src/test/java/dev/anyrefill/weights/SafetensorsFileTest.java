package dev.anyrefill.weights;

import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class SafetensorsFileTest {

    /** A file made of a header string and some data bytes, as a malformed checkpoint would be. */
    private static Path raw(Path dir, String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Path p = Files.createTempFile(dir, "bad", ".safetensors");
        Files.write(p, b.array());
        return p;
    }

    private static String expectError(Path dir, String header, int dataBytes, String fragment) throws IOException {
        Path p = raw(dir, header, dataBytes);
        WeightsException e = assertThrows(WeightsException.class, () -> SafetensorsFile.open(p).close());
        assertTrue(e.getMessage().startsWith(p.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "says '" + fragment + "': " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void eachMalformationGetsItsOwnMessage(@TempDir Path dir) throws IOException {
        expectError(dir, "{not json", 0, "not valid JSON");
        expectError(dir, "[1,2]", 0, "not a JSON object");
        expectError(dir, "{\"w\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype 'Q7'");
        expectError(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "out of order");
        expectError(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "beyond the data section");
        expectError(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes");
        expectError(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlaps");
        expectError(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets");
        String dup = expectError(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "'w'");
        assertTrue(dup.contains("duplicate"), dup);
    }

    @Test
    void headerLengthBeyondTheFileIsRefused(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("short.safetensors");
        Files.write(p, new byte[]{(byte) 0xFF, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        WeightsException e = assertThrows(WeightsException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains("header length 255"), e.getMessage());
        Files.write(p, new byte[3]);
        assertTrue(assertThrows(WeightsException.class, () -> SafetensorsFile.open(p)).getMessage().contains("shorter"));
    }

    @Test
    void truncatedAndMutatedGoldenFilesFailCleanlyNeverCrash(@TempDir Path dir) throws IOException {
        byte[] good = Files.readAllBytes(Golden.tiny("lora-bfl.safetensors"));
        long headerLen = ByteBuffer.wrap(good, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Random random = new Random(1234);
        int refused = 0;
        int accepted = 0;
        for (int trial = 0; trial < 400; trial++) {
            byte[] bad;
            if (trial % 2 == 0) { // truncation anywhere
                bad = java.util.Arrays.copyOf(good, random.nextInt(good.length));
            } else { // a few bytes of the length or header overwritten
                bad = good.clone();
                int flips = 1 + random.nextInt(4);
                for (int f = 0; f < flips; f++) {
                    int at = random.nextInt((int) Math.min(bad.length, 8 + headerLen));
                    bad[at] = (byte) random.nextInt(256);
                }
            }
            Path p = dir.resolve("fuzz-" + trial + ".safetensors");
            Files.write(p, bad);
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                for (String n : f.names()) { // an accepted file must be readable to its last byte
                    Tensor t = f.get(n);
                    if (t.size() > 0) {
                        t.getFloat(t.size() - 1);
                    }
                }
                accepted++;
            } catch (WeightsException e) {
                assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
                refused++;
            } catch (RuntimeException e) {
                fail("trial " + trial + ": " + e + " instead of a WeightsException", e);
            }
            Files.delete(p);
        }
        System.out.println("fuzz: 400 damaged files, " + refused + " refused with a message, " + accepted + " still valid");
        assertTrue(refused > 300);
    }

    @Test
    void writerRoundTripsF32AndBf16AndLeavesNoTempFile(@TempDir Path dir) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("a", Tensor.wrap(new float[]{1.5f, -2f, 3.25f, 1e-3f}, 2, 2));
        tensors.put("b", Tensor.wrap(new float[]{7f}, 1));
        Path f32 = dir.resolve("out.safetensors");
        SafetensorsWriter.write(f32, tensors, Map.of("tool", "test"), DType.F32);
        try (SafetensorsFile f = SafetensorsFile.open(f32)) {
            assertEquals("test", f.metadata().get("tool"));
            assertArrayEquals(new float[]{1.5f, -2f, 3.25f, 1e-3f}, f.get("a").toF32().data());
            assertArrayEquals(new int[]{2, 2}, f.get("a").shape());
        }
        Path bf16 = dir.resolve("out-bf16.safetensors");
        SafetensorsWriter.write(bf16, tensors, Map.of(), DType.BF16);
        try (SafetensorsFile f = SafetensorsFile.open(bf16)) {
            assertEquals(DType.BF16, f.get("a").dtype());
            assertEquals(1.5f, f.get("a").getFloat(0));
            assertEquals(1e-3f, f.get("a").getFloat(3), 1e-5f); // bf16 keeps 8 bits of mantissa
        }
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.toString().endsWith(".tmp")));
        }
    }

    @Test
    void aSparseThreeGigabyteFileIsMappedNotRead(@TempDir Path dir) throws IOException {
        long dataSize = 3L << 30;
        long tailElements = 1024;
        long tailBegin = dataSize - tailElements * 4;
        String header = "{\"head\":{\"dtype\":\"BF16\",\"shape\":[" + (tailBegin / 2) + "],\"data_offsets\":[0," + tailBegin + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[" + tailElements + "],\"data_offsets\":[" + tailBegin + "," + dataSize + "]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        Path p = dir.resolve("sparse.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length);
            f.write(len.array());
            f.write(json);
            f.setLength(8 + json.length + dataSize); // a hole: no disk blocks, no bytes written
            ByteBuffer tail = ByteBuffer.allocate(4 * (int) tailElements).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < tailElements; i++) {
                tail.putFloat(i * 0.5f);
            }
            f.seek(8 + json.length + tailBegin);
            f.write(tail.array());
        }
        var memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long before = memory.getHeapMemoryUsage().getUsed();
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            Tensor tailTensor = f.get("tail");
            assertEquals(511.5f, tailTensor.getFloat(tailElements - 1));
            assertEquals(0f, f.get("head").getFloat(f.get("head").size() - 1)); // inside the hole
            System.gc();
            long after = memory.getHeapMemoryUsage().getUsed();
            long growth = after - before;
            System.out.printf("sparse 3 GiB file: heap %,d -> %,d bytes (growth %,d)%n", before, after, growth);
            assertTrue(growth < 8L << 20, "heap grew by " + growth + " bytes");
        }
    }
}
