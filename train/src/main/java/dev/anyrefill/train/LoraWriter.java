package dev.anyrefill.train;

import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.FluxLayout;
import dev.anyrefill.weights.SafetensorsWriter;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a trained LoRA in the layouts the FLUX tools load.
 *
 * <ul>
 *   <li>{@link Format#KOHYA}: BFL module names behind {@code lora_unet_} with dots as
 *       underscores, {@code .lora_down.weight} = A [rank, in], {@code .lora_up.weight} = B [out, rank]
 *       and {@code .alpha} = scale * rank; what ComfyUI and kohya's sd-scripts load natively.</li>
 *   <li>{@link Format#PEFT}: diffusers module names behind {@code transformer.} with
 *       {@code .lora_A.weight} / {@code .lora_B.weight}, what diffusers' load_lora_weights reads.
 *       A fused BFL layer (qkv, linear1) becomes its diffusers parts (to_q, to_k, to_v,
 *       proj_mlp), each with the whole A and its rows of B. PEFT files carry no alpha (a loader
 *       takes alpha = rank, scale 1), so the scale is multiplied into B.</li>
 * </ul>
 * Both are read back by {@code LoraFile}, so {@code refill --lora} runs them.
 */
public final class LoraWriter {
    /** The key layout of the written file. */
    public enum Format {
        KOHYA, PEFT;

        public static Format fromCliName(String name) {
            for (Format f : values()) {
                if (f.name().toLowerCase(Locale.ROOT).equals(name)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("--format '" + name + "': one of kohya, peft");
        }
    }

    private static final Pattern BLOCK = Pattern.compile("(double|single)_blocks\\.(\\d+)\\.");

    private LoraWriter() {
    }

    /** Writes the LoRA atomically (temp file and rename), with the given safetensors metadata. */
    public static void write(Path file, TrainableLora lora, Format format, DType dtype, Map<String, String> metadata) {
        Map<String, Tensor> tensors = format == Format.KOHYA ? kohya(lora) : peft(lora);
        SafetensorsWriter.write(file, tensors, metadata, dtype);
    }

    /** The kohya tensors by key. */
    static Map<String, Tensor> kohya(TrainableLora lora) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (TrainableLora.Module m : lora.modules()) {
            requireWhole(m);
            String key = "lora_unet_" + m.name().replace('.', '_');
            out.put(key + ".lora_down.weight", m.a());
            out.put(key + ".lora_up.weight", m.b());
            out.put(key + ".alpha", Tensor.wrap(new float[]{m.scale() * m.a().dim(0)}));
        }
        return out;
    }

    /** The PEFT tensors by key: diffusers' modules, B scaled, fused layers split into their parts. */
    static Map<String, Tensor> peft(TrainableLora lora) {
        Map<String, FluxLayout.ModuleRule> rules = rules(lora);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (TrainableLora.Module m : lora.modules()) {
            requireWhole(m);
            FluxLayout.ModuleRule rule = rules.get(m.name());
            if (rule == null) {
                throw new IllegalArgumentException("LoRA module " + m.name() + " has no diffusers counterpart");
            }
            Tensor b = scaled(m.b(), m.scale()); // [out, rank]
            List<String> parts = rule.diffusersModules();
            int in = m.a().dim(1);
            for (int p = 0; p < parts.size(); p++) {
                Tensor partB = switch (rule.kind()) {
                    case SAME -> b;
                    case SWAP_HALVES -> swapHalves(b);
                    // the parts of a fused layer are `in` rows each, the last takes the rest (linear1's MLP)
                    case CONCAT_ROWS -> b.sliceRows(p * in, p == parts.size() - 1 ? b.dim(0) : (p + 1) * in);
                };
                out.put("transformer." + parts.get(p) + ".lora_A.weight", m.a());
                out.put("transformer." + parts.get(p) + ".lora_B.weight", partB);
            }
        }
        return out;
    }

    /** The diffusers rule of every BFL module, for as many blocks as the LoRA's names reach. */
    private static Map<String, FluxLayout.ModuleRule> rules(TrainableLora lora) {
        int[] blocks = new int[2];
        for (TrainableLora.Module m : lora.modules()) {
            Matcher matcher = BLOCK.matcher(m.name());
            if (matcher.lookingAt()) {
                int which = matcher.group(1).equals("double") ? 0 : 1;
                blocks[which] = Math.max(blocks[which], Integer.parseInt(matcher.group(2)) + 1);
            }
        }
        Map<String, FluxLayout.ModuleRule> rules = new LinkedHashMap<>();
        for (FluxLayout.ModuleRule r : FluxLayout.diffusersRules(blocks[0], blocks[1])) {
            rules.put(r.bflModule(), r);
        }
        return rules;
    }

    /** A module read from a file may cover a row slice of its layer; a trained file is written whole. */
    private static void requireWhole(TrainableLora.Module m) {
        if (m.slice()) {
            throw new IllegalArgumentException("LoRA module " + m.name() + " covers rows " + m.rowOffset() + " to "
                    + (m.rowOffset() + m.b().dim(0)) + " of its layer; only whole-layer modules can be written");
        }
    }

    private static Tensor scaled(Tensor t, float s) {
        float[] a = t.data().clone();
        for (int i = 0; i < a.length; i++) {
            a[i] *= s;
        }
        return Tensor.wrap(a, t.shape());
    }

    private static Tensor swapHalves(Tensor t) {
        int half = t.dim(0) / 2 * t.dim(1);
        float[] a = t.data();
        float[] out = new float[a.length];
        System.arraycopy(a, half, out, 0, half);
        System.arraycopy(a, 0, out, half, half);
        return Tensor.wrap(out, t.shape());
    }
}
