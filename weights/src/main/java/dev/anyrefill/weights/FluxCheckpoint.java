package dev.anyrefill.weights;

import dev.anyrefill.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A FLUX transformer checkpoint in any {@link FluxLayout}, seen under BFL's names.
 *
 * <p>Renamed tensors are views of the mapped file. A diffusers checkpoint's fused tensors
 * (qkv, linear1, the swapped final modulation) do not exist in its file; each is assembled
 * on first use into an off-heap buffer in its stored type (never widened, never on the Java
 * heap) and cached. The BFL single file needs none of that, so it is the layout to prefer for
 * the 12 B model.
 */
public final class FluxCheckpoint implements TensorSource {
    private final TensorSource source;
    private final FluxLayout layout;
    /** Canonical name to the recipe for it: source names and how to combine them. */
    private final Map<String, Recipe> recipes;
    private final Map<String, Tensor> assembled = new ConcurrentHashMap<>();
    private final Arena arena = Arena.ofShared();
    private final FluxConfig config;
    private final java.util.List<String> warnings;

    private record Recipe(FluxLayout.Kind kind, String[] sources) {
    }

    private FluxCheckpoint(TensorSource source) {
        this.source = source;
        this.layout = FluxLayout.detect(source.origin(), source.names());
        this.recipes = Collections.unmodifiableMap(buildRecipes(source, layout));
        FluxCompleteness.requireNoHoles(this);
        FluxCompleteness.requireFloatingPoint(this);
        try {
            this.config = FluxConfig.infer(this);
        } catch (IndexOutOfBoundsException e) {
            throw new WeightsException(source.origin() + ": tensors named as FLUX's do not have FLUX's shapes ("
                    + e.getMessage() + ")");
        }
        this.warnings = FluxCompleteness.check(this, config);
    }

    /** What opening found odd but not wrong: tensors left over, a configuration of no FLUX.1 variant. */
    public java.util.List<String> warnings() {
        return warnings;
    }

    /** Opens a file, an index or a folder, and detects its layout. */
    public static FluxCheckpoint open(Path path) {
        TensorSource source = Checkpoints.open(path);
        try {
            return new FluxCheckpoint(source);
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }

    /** Wraps an already opened source (closing the checkpoint closes it). */
    public static FluxCheckpoint of(TensorSource source) {
        return new FluxCheckpoint(source);
    }

    private static Map<String, Recipe> buildRecipes(TensorSource source, FluxLayout layout) {
        Map<String, Recipe> recipes = new LinkedHashMap<>();
        switch (layout) {
            case BFL -> source.names().forEach(n -> recipes.put(n, new Recipe(FluxLayout.Kind.SAME, new String[]{n})));
            case COMFYUI -> source.names().stream().filter(n -> n.startsWith(FluxLayout.COMFYUI_PREFIX))
                    .forEach(n -> recipes.put(n.substring(FluxLayout.COMFYUI_PREFIX.length()),
                            new Recipe(FluxLayout.Kind.SAME, new String[]{n})));
            case DIFFUSERS -> {
                Set<String> names = source.names();
                int doubles = FluxLayout.countBlocks(names, false, true);
                int singles = FluxLayout.countBlocks(names, true, true);
                java.util.Set<String> used = new java.util.HashSet<>();
                for (FluxLayout.ModuleRule rule : FluxLayout.diffusersRules(doubles, singles)) {
                    for (String param : new String[]{"weight", "bias"}) {
                        String[] parts = rule.diffusersModules().stream().map(m -> m + "." + param).toArray(String[]::new);
                        boolean all = Arrays.stream(parts).allMatch(names::contains);
                        boolean any = Arrays.stream(parts).anyMatch(names::contains);
                        if (any && !all) {
                            throw new WeightsException(source.origin() + ": " + rule.bflModule() + "." + param
                                    + " needs all of " + Arrays.toString(parts) + ", some are missing");
                        }
                        if (all) {
                            recipes.put(rule.bflModule() + "." + FluxLayout.bflParam(rule.bflModule(), param),
                                    new Recipe(rule.kind(), parts));
                            used.addAll(Arrays.asList(parts));
                        }
                    }
                }
                for (String n : names) {
                    if (!used.contains(n)) {
                        throw new WeightsException(source.origin() + ": diffusers tensor '" + n
                                + "' has no place in a FLUX transformer");
                    }
                }
            }
        }
        return recipes;
    }

    public FluxLayout layout() {
        return layout;
    }

    public FluxConfig config() {
        return config;
    }

    @Override
    public Set<String> names() {
        return recipes.keySet();
    }

    @Override
    public boolean contains(String name) {
        return recipes.containsKey(name);
    }

    @Override
    public String origin() {
        return source.origin();
    }

    @Override
    public Map<String, String> metadata() {
        return source.metadata();
    }

    @Override
    public Tensor get(String name) {
        Recipe recipe = recipes.get(name);
        if (recipe == null) {
            throw new WeightsException(origin() + ": no tensor '" + name + "' (" + layout + " layout)");
        }
        if (recipe.kind() == FluxLayout.Kind.SAME) {
            return source.get(recipe.sources()[0]);
        }
        return assembled.computeIfAbsent(name, n -> assemble(n, recipe));
    }

    private Tensor assemble(String name, Recipe recipe) {
        Tensor[] parts = Arrays.stream(recipe.sources()).map(source::get).toArray(Tensor[]::new);
        Tensor first = parts[0];
        int[] shape = first.shape();
        int rows = 0;
        for (Tensor p : parts) {
            int[] s = p.shape();
            if (p.dtype() != first.dtype() || s.length != shape.length
                    || !Arrays.equals(Arrays.copyOfRange(s, 1, s.length), Arrays.copyOfRange(shape, 1, shape.length))) {
                throw new WeightsException(origin() + ": cannot stack " + Arrays.toString(recipe.sources())
                        + " into '" + name + "': shapes or types differ");
            }
            rows += s[0];
        }
        shape[0] = rows;
        long bytes = Tensor.count(shape) * first.dtype().bytes();
        MemorySegment out = arena.allocate(bytes, 64);
        if (recipe.kind() == FluxLayout.Kind.CONCAT_ROWS) {
            long at = 0;
            for (Tensor p : parts) {
                MemorySegment.copy(p.segment(), 0, out, at, p.segment().byteSize());
                at += p.segment().byteSize();
            }
        } else { // SWAP_HALVES: (scale, shift) rows become (shift, scale)
            if (shape[0] % 2 != 0) {
                throw new WeightsException(origin() + ": '" + recipe.sources()[0] + "' has an odd number of rows");
            }
            long half = bytes / 2;
            MemorySegment.copy(first.segment(), half, out, 0, half);
            MemorySegment.copy(first.segment(), 0, out, half, half);
        }
        return Tensor.view(first.dtype(), shape, out);
    }

    @Override
    public void close() {
        source.close();
        arena.close();
    }
}
