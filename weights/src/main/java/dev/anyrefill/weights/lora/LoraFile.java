package dev.anyrefill.weights.lora;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.Checkpoints;
import dev.anyrefill.weights.FluxLayout;
import dev.anyrefill.weights.TensorSource;
import dev.anyrefill.weights.WeightsException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A FLUX LoRA file in any {@link LoraLayout}, read as a list of {@link LoraModule}s on BFL's
 * module names. Every tensor of the file must belong to a module that maps onto a layer of a
 * FLUX transformer: a key that does not is an error naming it (a LoRA that loads and silently
 * does nothing is worse than one that fails). Tensors stay views of the mapped file; keep the
 * file open while they are used.
 */
public final class LoraFile implements AutoCloseable {
    /** Tensor-name endings and what they hold. */
    private enum Part { DOWN, UP, UP_BIAS, ALPHA }

    private static final Map<String, Part> SUFFIXES = new LinkedHashMap<>();

    static {
        SUFFIXES.put(".lora_A.weight", Part.DOWN);
        SUFFIXES.put(".lora_B.weight", Part.UP);
        SUFFIXES.put(".lora_B.bias", Part.UP_BIAS);
        SUFFIXES.put(".lora_down.weight", Part.DOWN);
        SUFFIXES.put(".lora_up.weight", Part.UP);
        SUFFIXES.put(".lora_up.bias", Part.UP_BIAS);
        SUFFIXES.put(".alpha", Part.ALPHA);
    }

    /** Module-name prefixes other tools write, and whether the rest uses underscores for dots. */
    private record Prefix(String text, boolean underscores) {
    }

    private static final List<Prefix> PREFIXES = List.of(
            new Prefix("lora_unet_", true),
            new Prefix("lora_transformer_", true),
            new Prefix("base_model.model.", false),
            new Prefix("transformer.", false),
            new Prefix("model.diffusion_model.", false),
            new Prefix("diffusion_model.", false),
            new Prefix("", false));

    private static final Pattern BLOCK_INDEX = Pattern.compile("blocks[._](\\d+)");

    private final TensorSource source;
    private final LoraLayout layout;
    private final String prefix;
    private final List<LoraModule> modules;

    private LoraFile(TensorSource source, LoraLayout layout, String prefix, List<LoraModule> modules) {
        this.source = source;
        this.layout = layout;
        this.prefix = prefix;
        this.modules = modules;
    }

    /** Opens and maps a LoRA file; an error naming the key for anything that does not fit. */
    public static LoraFile open(Path path) {
        TensorSource source = Checkpoints.open(path);
        try {
            return of(source);
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }

    /** True when every tensor name ends like a LoRA tensor (what inspect uses to recognise one). */
    public static boolean looksLikeLora(Set<String> names) {
        return !names.isEmpty() && names.stream().anyMatch(n -> n.endsWith(".lora_A.weight") || n.endsWith(".lora_down.weight"))
                && names.stream().allMatch(n -> SUFFIXES.keySet().stream().anyMatch(n::endsWith));
    }

    /** Reads an opened source (closing the LoRA file closes it). */
    public static LoraFile of(TensorSource source) {
        String origin = source.origin();
        if (source.names().isEmpty()) {
            throw new WeightsException(origin + ": holds no tensors, not a LoRA");
        }
        Targets targets = new Targets(FluxLayout.diffusersRules(blockCount(source), blockCount(source)));
        AlphaMetadata alphas = AlphaMetadata.parse(origin, source.metadata());
        List<LoraModule> modules = new ArrayList<>();
        LoraLayout layout = null;
        String prefixSeen = null;
        for (Map.Entry<String, Map<Part, String>> e : byModule(source).entrySet()) {
            Placed placed = place(origin, e.getKey(), e.getValue(), targets);
            modules.add(read(source, placed, alphas));
            if (layout == null) { // the first module tells the layout and prefix the file uses
                layout = placed.layout();
                prefixSeen = placed.prefix().text();
            }
        }
        return new LoraFile(source, layout, prefixSeen, Collections.unmodifiableList(modules));
    }

    /** Blocks the file's names reach (the diffusers rules are made for that many). */
    private static int blockCount(TensorSource source) {
        int blocks = 0;
        for (String n : source.names()) {
            Matcher m = BLOCK_INDEX.matcher(n);
            while (m.find()) {
                blocks = Math.max(blocks, Integer.parseInt(m.group(1)) + 1);
            }
        }
        return blocks;
    }

    /** Step 1: the file's tensors grouped by module name (as the file writes it), each part by its suffix. */
    private static Map<String, Map<Part, String>> byModule(TensorSource source) {
        Map<String, Map<Part, String>> byModule = new TreeMap<>();
        for (String key : source.names()) {
            Map.Entry<String, Part> suffix = SUFFIXES.entrySet().stream().filter(e -> key.endsWith(e.getKey()))
                    .findFirst().orElseThrow(() -> new WeightsException(source.origin() + ": key '" + key
                            + "' is not a LoRA tensor (expected lora_A/lora_B, lora_down/lora_up or alpha)"));
            String module = key.substring(0, key.length() - suffix.getKey().length());
            byModule.computeIfAbsent(module, m -> new java.util.EnumMap<>(Part.class)).put(suffix.getValue(), key);
        }
        return byModule;
    }

    /** A module of the file placed on a FLUX layer: its parts, the layer, the prefix that matched, the layout. */
    private record Placed(String module, Map<Part, String> parts, Targets.Target target, Prefix prefix,
                          LoraLayout layout) {
    }

    /** Step 2: the FLUX layer a module lands on, trying each known prefix; an error naming a key for none. */
    private static Placed place(String origin, String module, Map<Part, String> parts, Targets targets) {
        String anyKey = parts.values().iterator().next();
        if (!parts.containsKey(Part.DOWN) || !parts.containsKey(Part.UP)) {
            throw new WeightsException(origin + ": key '" + anyKey + "' has no matching "
                    + (parts.containsKey(Part.DOWN) ? "lora_B/lora_up" : "lora_A/lora_down") + " weight");
        }
        for (Prefix p : PREFIXES) {
            if (module.startsWith(p.text())) {
                Targets.Target target = targets.find(module.substring(p.text().length()), p.underscores());
                if (target != null) {
                    LoraLayout layout = parts.get(Part.DOWN).endsWith(".lora_down.weight") ? LoraLayout.KOHYA
                            : target.diffusersName() ? LoraLayout.PEFT : LoraLayout.BFL;
                    return new Placed(module, parts, target, p, layout);
                }
            }
        }
        throw new WeightsException(origin + ": key '" + anyKey + "' matches no layer of a FLUX transformer");
    }

    /** Step 3: the module's tensors, checked (shapes, rank, finite values, alpha) and put in BFL's row order. */
    private static LoraModule read(TensorSource source, Placed placed, AlphaMetadata alphas) {
        String origin = source.origin();
        Map<Part, String> parts = placed.parts();
        Tensor down = source.get(parts.get(Part.DOWN));
        Tensor up = source.get(parts.get(Part.UP));
        if (down.rank() != 2 || up.rank() != 2 || up.dim(1) != down.dim(0)) {
            throw new WeightsException(origin + ": key '" + parts.get(Part.UP) + "' " + Arrays.toString(up.shape())
                    + " does not fit '" + parts.get(Part.DOWN) + "' " + Arrays.toString(down.shape())
                    + " (expected B [out, rank] and A [rank, in])");
        }
        if (down.dim(0) < 1) {
            throw new WeightsException(origin + ": key '" + parts.get(Part.DOWN) + "' " + Arrays.toString(down.shape())
                    + " has rank 0 (no rows): not a LoRA");
        }
        Tensor bias = parts.containsKey(Part.UP_BIAS) ? source.get(parts.get(Part.UP_BIAS)) : null;
        if (bias != null && bias.size() != up.dim(0)) {
            throw new WeightsException(origin + ": key '" + parts.get(Part.UP_BIAS) + "' " + Arrays.toString(bias.shape())
                    + " does not fit '" + parts.get(Part.UP) + "' " + Arrays.toString(up.shape()));
        }
        for (Map.Entry<Part, String> part : parts.entrySet()) {
            if (part.getKey() != Part.ALPHA && dev.anyrefill.tensor.Finite.firstNonFinite(source.get(part.getValue())) >= 0) {
                throw new WeightsException(origin + ": key '" + part.getValue() + "' holds NaN or infinity");
            }
        }
        double alpha = alpha(source, parts, alphas, placed.module(), down.dim(0));
        Targets.Target target = placed.target();
        if (target.swapHalves()) {
            up = swapHalves(origin, parts.get(Part.UP), up);
            bias = bias == null ? null : swapHalves(origin, parts.get(Part.UP_BIAS), bias);
        }
        // FLUX's fused layers stack parts of `hidden` rows (q, k, v, then proj_mlp), hidden = in features
        int rowOffset = target.part() * down.dim(1);
        return new LoraModule(placed.module(), target.bflModule(), rowOffset, target.parts() > 1, down, up, bias, alpha,
                List.copyOf(parts.values()));
    }

    /** The module's alpha: its own tensor, else the file's metadata, else the rank (scale 1). */
    private static double alpha(TensorSource source, Map<Part, String> parts, AlphaMetadata alphas, String module,
                                int rank) {
        if (!parts.containsKey(Part.ALPHA)) {
            return alphas.alpha(module, rank);
        }
        Tensor a = source.get(parts.get(Part.ALPHA));
        if (a.size() != 1) {
            throw new WeightsException(source.origin() + ": key '" + parts.get(Part.ALPHA) + "' has shape "
                    + Arrays.toString(a.shape()) + ", an alpha is one number");
        }
        double alpha = a.getFloat(0);
        if (!Double.isFinite(alpha)) {
            throw new WeightsException(source.origin() + ": key '" + parts.get(Part.ALPHA) + "' is " + alpha
                    + ", not a finite alpha");
        }
        return alpha;
    }

    /** The rows of a diffusers norm_out LoRA reordered to BFL's (shift, scale) order. */
    private static Tensor swapHalves(String origin, String key, Tensor t) {
        if (t.dim(0) % 2 != 0) {
            throw new WeightsException(origin + ": key '" + key + "' has an odd number of rows for norm_out");
        }
        int half = t.dim(0) / 2;
        Tensor second = t.sliceRows(half, t.dim(0));
        Tensor first = t.sliceRows(0, half);
        float[] out = new float[Math.toIntExact(t.size())];
        System.arraycopy(second.data(), 0, out, 0, second.data().length);
        System.arraycopy(first.data(), 0, out, second.data().length, first.data().length);
        return Tensor.wrap(out, t.shape());
    }

    public LoraLayout layout() {
        return layout;
    }

    /** The module-name prefix the file uses ("lora_unet_", "transformer.", "" ...). */
    public String prefix() {
        return prefix;
    }

    public List<LoraModule> modules() {
        return modules;
    }

    /** Number of tensors in the file (all of them belong to a module). */
    public int tensorCount() {
        return source.names().size();
    }

    public String origin() {
        return source.origin();
    }

    @Override
    public void close() {
        source.close();
    }

    /** The BFL layers a module name can denote, from FluxLayout's diffusers-to-BFL rules. */
    private static final class Targets {
        record Target(String bflModule, int part, int parts, boolean swapHalves, boolean diffusersName) {
        }

        private final Map<String, Target> dotted = new LinkedHashMap<>();
        private final Map<String, Target> underscored = new LinkedHashMap<>();

        Targets(List<FluxLayout.ModuleRule> rules) {
            for (FluxLayout.ModuleRule rule : rules) {
                if (rule.bflModule().endsWith("_norm")) {
                    continue; // RMS norm scales, not linear layers
                }
                put(rule.bflModule(), new Target(rule.bflModule(), 0, 1, false, false));
            }
            for (FluxLayout.ModuleRule rule : rules) {
                if (rule.bflModule().endsWith("_norm")) {
                    continue;
                }
                List<String> parts = rule.diffusersModules();
                for (int i = 0; i < parts.size(); i++) {
                    put(parts.get(i), new Target(rule.bflModule(), i, parts.size(),
                            rule.kind() == FluxLayout.Kind.SWAP_HALVES, true));
                }
            }
        }

        private void put(String name, Target t) {
            dotted.putIfAbsent(name, t);
            underscored.putIfAbsent(name.replace('.', '_'), t);
        }

        Target find(String module, boolean underscores) {
            return (underscores ? underscored : dotted).get(module);
        }
    }

    /**
     * PEFT's {@code lora_adapter_metadata} ({@code lora_alpha}, {@code r}, {@code alpha_pattern}),
     * the alpha of modules without an {@code .alpha} tensor; alpha = rank when nothing says otherwise.
     */
    private record AlphaMetadata(Double loraAlpha, Map<String, Double> pattern) {
        static AlphaMetadata parse(String origin, Map<String, String> metadata) {
            String json = metadata.get("lora_adapter_metadata");
            if (json == null) {
                return new AlphaMetadata(null, Map.of());
            }
            try {
                JsonObject o = JsonParser.parseString(json).getAsJsonObject();
                Double alpha = o.has("lora_alpha") && !o.get("lora_alpha").isJsonNull() ? o.get("lora_alpha").getAsDouble() : null;
                Map<String, Double> pattern = new LinkedHashMap<>();
                if (o.has("alpha_pattern") && o.get("alpha_pattern").isJsonObject()) {
                    for (Map.Entry<String, JsonElement> e : o.getAsJsonObject("alpha_pattern").entrySet()) {
                        pattern.put(e.getKey(), e.getValue().getAsDouble());
                    }
                }
                return new AlphaMetadata(alpha, pattern);
            } catch (RuntimeException e) {
                throw new WeightsException(origin + ": __metadata__ lora_adapter_metadata is not valid JSON: " + e.getMessage());
            }
        }

        double alpha(String module, int rank) {
            for (Map.Entry<String, Double> e : pattern.entrySet()) {
                if (module.equals(e.getKey()) || module.endsWith("." + e.getKey())) {
                    return e.getValue();
                }
            }
            return loraAlpha != null ? loraAlpha : rank;
        }
    }
}
