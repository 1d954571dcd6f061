package dev.anyrefill.weights;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.anyrefill.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Several safetensors files seen as one: a {@code *.safetensors.index.json} (diffusers'
 * {@code weight_map}: tensor name to shard file), or a folder of {@code *.safetensors} files.
 */
public final class ShardedCheckpoint implements TensorSource {
    private final String origin;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> byName;

    private ShardedCheckpoint(String origin, List<SafetensorsFile> shards) {
        this.origin = origin;
        this.shards = shards;
        Map<String, SafetensorsFile> map = new LinkedHashMap<>();
        for (SafetensorsFile shard : shards) {
            for (String name : shard.names()) {
                SafetensorsFile before = map.put(name, shard);
                if (before != null) {
                    close();
                    throw new WeightsException(origin + ": tensor '" + name + "' is in both "
                            + before.path() + " and " + shard.path());
                }
            }
        }
        this.byName = map;
    }

    /** Opens an index file, a folder (its index if it has one, else all its safetensors files). */
    public static ShardedCheckpoint open(Path path) {
        if (Files.isDirectory(path)) {
            try (Stream<Path> files = Files.list(path)) {
                List<Path> list = files.sorted().toList();
                for (Path p : list) {
                    if (p.getFileName().toString().endsWith(".safetensors.index.json")) {
                        return openIndex(p);
                    }
                }
                List<Path> shards = list.stream()
                        .filter(p -> p.getFileName().toString().endsWith(".safetensors")).toList();
                if (shards.isEmpty()) {
                    throw new WeightsException(path + ": folder holds no .safetensors file");
                }
                return new ShardedCheckpoint(path.toString(), openAll(shards));
            } catch (IOException e) {
                throw new WeightsException(path + ": cannot list: " + e.getMessage(), e);
            }
        }
        return openIndex(path);
    }

    private static ShardedCheckpoint openIndex(Path index) {
        JsonObject weightMap;
        try {
            JsonElement root = JsonParser.parseString(Files.readString(index));
            weightMap = root.getAsJsonObject().getAsJsonObject("weight_map");
            if (weightMap == null) {
                throw new WeightsException(index + ": no weight_map");
            }
        } catch (IOException e) {
            throw new WeightsException(index + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (e instanceof WeightsException we) {
                throw we;
            }
            throw new WeightsException(index + ": not a safetensors index (" + e.getMessage() + ")");
        }
        Set<String> files = new LinkedHashSet<>();
        weightMap.entrySet().forEach(e -> files.add(e.getValue().getAsString()));
        Path folder = index.toAbsolutePath().normalize().getParent();
        List<Path> shards = new ArrayList<>();
        for (String f : files) {
            Path shard = folder.resolve(f).normalize();
            if (Path.of(f).isAbsolute() || !shard.startsWith(folder)) {
                throw new WeightsException(index + ": shard '" + f + "' lies outside the index's folder " + folder
                        + "; an index names files beside it");
            }
            shards.add(shard);
        }
        ShardedCheckpoint checkpoint = new ShardedCheckpoint(index.toString(), openAll(shards));
        for (Map.Entry<String, JsonElement> e : weightMap.entrySet()) {
            if (!checkpoint.contains(e.getKey())) {
                checkpoint.close();
                throw new WeightsException(index + ": tensor '" + e.getKey() + "' is listed in "
                        + e.getValue().getAsString() + " but that file lacks it");
            }
        }
        return checkpoint;
    }

    private static List<SafetensorsFile> openAll(List<Path> paths) {
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            for (Path p : paths) {
                opened.add(SafetensorsFile.open(p));
            }
            return opened;
        } catch (RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    public List<SafetensorsFile> shards() {
        return Collections.unmodifiableList(shards);
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(byName.keySet());
    }

    @Override
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    @Override
    public Tensor get(String name) {
        SafetensorsFile shard = byName.get(name);
        if (shard == null) {
            throw new WeightsException(origin + ": no tensor '" + name + "'");
        }
        return shard.get(name);
    }

    @Override
    public Map<String, String> metadata() {
        Map<String, String> all = new LinkedHashMap<>();
        shards.forEach(s -> all.putAll(s.metadata()));
        return all;
    }

    @Override
    public String origin() {
        return origin;
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }
}
