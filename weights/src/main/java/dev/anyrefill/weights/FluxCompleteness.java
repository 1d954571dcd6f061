package dev.anyrefill.weights;

import dev.anyrefill.tensor.DType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A transformer checkpoint checked whole when it is opened: blocks numbered 0..n-1 without
 * holes, every tensor BFL's modules have for the inferred configuration (biases included)
 * present with its exact shape and a floating-point dtype, or an error naming it. What is left
 * over, and a configuration that matches no FLUX.1 variant, are warnings, not errors.
 */
final class FluxCompleteness {
    private static final Pattern BLOCK = Pattern.compile("^(double|single)_blocks\\.(\\d+)\\.");

    private FluxCompleteness() {
    }

    /** Throws for what is missing or misshaped; returns the warnings (tensors left over, unknown variant). */
    static List<String> check(TensorSource w, FluxConfig c) {
        Map<String, int[]> expected = FluxShapes.of(c);
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            String name = e.getKey();
            if (!w.contains(name)) {
                throw new WeightsException(w.origin() + ": tensor '" + name + "' is missing (a FLUX transformer with "
                        + c.depth() + " double and " + c.depthSingleBlocks() + " single blocks has it)");
            }
            var info = w.get(name);
            if (!Arrays.equals(info.shape(), e.getValue())) {
                throw new WeightsException(w.origin() + ": tensor '" + name + "' has shape " + Arrays.toString(info.shape())
                        + ", this configuration needs " + Arrays.toString(e.getValue()));
            }
        }
        List<String> warnings = new ArrayList<>();
        List<String> extra = w.names().stream().filter(n -> !expected.containsKey(n)).toList();
        if (!extra.isEmpty()) {
            warnings.add(w.origin() + ": " + extra.size() + " tensor(s) that no FLUX module reads, ignored: "
                    + String.join(", ", extra.subList(0, Math.min(5, extra.size()))) + (extra.size() > 5 ? ", ..." : ""));
        }
        if (c.hiddenSize() == 3072 && (c.depth() != 19 || c.depthSingleBlocks() != 38)) {
            warnings.add(w.origin() + ": " + c.depth() + " double and " + c.depthSingleBlocks() + " single blocks at hidden "
                    + "3072: no FLUX.1 variant (they have 19 and 38); is the file cut short?");
        }
        if (c.inChannels() == 384 && !c.guidanceEmbed()) {
            warnings.add(w.origin() + ": a Fill model (384 input channels) without guidance_in: FLUX.1-Fill-dev has one");
        }
        return warnings;
    }

    /** Every tensor in a type the kernels read: F32, BF16, F16 or FP8 (an F64 or integer weight named). */
    static void requireFloatingPoint(TensorSource w) {
        for (String name : w.names()) {
            DType t = w.get(name).dtype();
            if (t != DType.F32 && t != DType.BF16 && t != DType.F16 && !t.name().startsWith("F8")) {
                throw new WeightsException(w.origin() + ": tensor '" + name + "' is " + t + "; weights are F32, BF16, "
                        + "F16 or FP8");
            }
        }
    }

    /** Blocks numbered 0..n-1 without holes (checked before the configuration is inferred from block 0). */
    static void requireNoHoles(TensorSource w) {
        for (String kind : new String[]{"double", "single"}) {
            TreeSet<Integer> seen = new TreeSet<>();
            for (String n : w.names()) {
                Matcher m = BLOCK.matcher(n);
                if (m.find() && m.group(1).equals(kind)) {
                    seen.add(Integer.parseInt(m.group(2)));
                }
            }
            for (int i = 0; !seen.isEmpty() && i <= seen.last(); i++) {
                if (!seen.contains(i)) {
                    throw new WeightsException(w.origin() + ": " + kind + "_blocks are not numbered 0.." + seen.last()
                            + " without holes: block " + i + " is missing");
                }
            }
        }
    }
}
