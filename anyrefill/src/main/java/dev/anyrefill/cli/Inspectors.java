package dev.anyrefill.cli;

import dev.anyrefill.text.EncoderWeights;
import dev.anyrefill.text.clip.ClipTextConfig;
import dev.anyrefill.text.t5.T5Config;
import dev.anyrefill.weights.TensorSource;
import dev.anyrefill.weights.WeightsException;
import dev.anyrefill.weights.lora.LoraFile;
import dev.anyrefill.weights.lora.LoraModule;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Descriptions of the non-transformer files {@code inspect} understands. Each kind of file
 * (VAE, LoRA, text encoder) adds its recogniser here.
 */
final class Inspectors {
    private Inspectors() {
    }

    static void describe(TensorSource source, PrintStream out) {
        if (LoraFile.looksLikeLora(source.names())) {
            describeLora(source, out);
            return;
        }
        if (describeTextEncoder(source, out)) {
            return;
        }
        out.println("  model: not recognised (no FLUX transformer tensors)");
    }

    /** T5 encoder or CLIP text model (HF names, any prefix); config from shapes only. */
    private static boolean describeTextEncoder(TensorSource source, PrintStream out) {
        try {
            EncoderWeights t5 = EncoderWeights.of(source, "encoder.block.0.layer.0.SelfAttention.q.weight", "T5 encoder");
            out.println("  model: T5 encoder (FLUX's text_encoder_2)");
            out.println("  config: " + T5Config.infer(t5));
            return true;
        } catch (WeightsException notT5) {
            // try the next kind
        }
        try {
            EncoderWeights clip = EncoderWeights.of(source, "text_model.embeddings.token_embedding.weight", "CLIP text model");
            out.println("  model: CLIP text model (FLUX's text_encoder)");
            out.println("  config: " + ClipTextConfig.infer(clip) + (clip.config("clip_text_model", "clip") == null ? " (no config.json: heads, eps, activation are CLIP-L's)" : ""));
            return true;
        } catch (WeightsException notClip) {
            return false;
        }
    }

    /** Layout, rank, alpha and the BFL layers a LoRA targets (block indices folded into N). */
    private static void describeLora(TensorSource source, PrintStream out) {
        LoraFile lora = LoraFile.of(source); // not closed here: inspect closes the source
        out.println("  model: FLUX LoRA");
        out.println("  layout: " + lora.layout().name().toLowerCase(Locale.ROOT)
                + (lora.prefix().isEmpty() ? "" : " (prefix " + lora.prefix() + ")"));
        out.println("  rank: " + distinct(lora, m -> String.valueOf(m.rank())));
        out.println("  alpha: " + distinct(lora, m -> format(m.alpha())) + " (scale = weight * alpha / rank)");
        out.println("  tensors: " + lora.tensorCount() + ", modules: " + lora.modules().size() + ", layers: "
                + lora.modules().stream().map(LoraModule::bflModule).distinct().count());
        Map<String, TreeSet<Integer>> patterns = new LinkedHashMap<>();
        for (LoraModule m : lora.modules()) {
            String pattern = m.bflModule().replaceAll("blocks\\.\\d+\\.", "blocks.N.")
                    + (m.slice() ? " rows from " + m.rowOffset() : "");
            TreeSet<Integer> blocks = patterns.computeIfAbsent(pattern, p -> new TreeSet<>());
            java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("blocks\\.(\\d+)\\.").matcher(m.bflModule());
            if (matcher.find()) {
                blocks.add(Integer.parseInt(matcher.group(1)));
            }
        }
        out.println("  targets:");
        patterns.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> out.println("    " + e.getKey()
                + (e.getValue().isEmpty() ? "" : "  (N = " + ranges(e.getValue()) + ")")));
    }

    /** One line for a loaded LoRA: file, layout, rank, alpha, layer count. */
    static String loraSummary(LoraFile lora) {
        return lora.origin() + " (" + lora.layout().name().toLowerCase(Locale.ROOT) + " layout, rank "
                + distinct(lora, m -> String.valueOf(m.rank())) + ", alpha " + distinct(lora, m -> format(m.alpha()))
                + ", " + lora.modules().stream().map(LoraModule::bflModule).distinct().count() + " layers)";
    }

    private static String distinct(LoraFile lora, java.util.function.Function<LoraModule, String> f) {
        return lora.modules().stream().map(f).distinct().collect(Collectors.joining(", "));
    }

    private static String format(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }

    /** 0, 1, 2, 5 as "0-2, 5". */
    private static String ranges(TreeSet<Integer> values) {
        StringBuilder b = new StringBuilder();
        Integer start = null;
        Integer prev = null;
        for (int v : values) {
            if (prev != null && v == prev + 1) {
                prev = v;
                continue;
            }
            if (start != null) {
                b.append(b.isEmpty() ? "" : ", ").append(start.equals(prev) ? start : start + "-" + prev);
            }
            start = v;
            prev = v;
        }
        if (start != null) {
            b.append(b.isEmpty() ? "" : ", ").append(start.equals(prev) ? start : start + "-" + prev);
        }
        return b.toString();
    }
}
