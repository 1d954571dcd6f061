package dev.anyrefill.dit;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.lora.LoraFile;
import dev.anyrefill.weights.lora.LoraModule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Puts LoRA files onto a {@link FluxModel}'s linear layers, each file with its own user weight,
 * in either {@link LoraMode}. Every module of every file must land on a layer it fits; anything
 * else is an error naming the file's key, so a LoRA never loads and silently does nothing.
 */
public final class Loras {
    /** A LoRA file with the user's weight for it. */
    public record Weighted(LoraFile file, double weight) {
    }

    private Loras() {
    }

    /**
     * Applies the LoRAs and returns the report line "applied N of N LoRA tensors". Earlier
     * LoRAs on the model are removed first.
     */
    public static String apply(FluxModel model, List<Weighted> loras, LoraMode mode) {
        Map<String, Linear> linears = model.linears();
        linears.values().forEach(Linear::clearLora);
        // resolve and check everything before changing any layer
        Map<Linear, List<LoraAdapter>> byLayer = new LinkedHashMap<>();
        int total = 0;
        int applied = 0;
        for (Weighted w : loras) {
            total += w.file().tensorCount();
            for (LoraModule m : w.file().modules()) {
                Linear layer = linears.get(m.bflModule());
                String source = w.file().origin() + ": key '" + m.keys().getFirst() + "'";
                if (layer == null) {
                    throw new IllegalArgumentException(source + " targets " + m.bflModule()
                            + ", which is not a linear layer of this model");
                }
                LoraAdapter adapter = new LoraAdapter(m.down(), m.up(), m.upBias(), (float) m.scale(w.weight()),
                        m.rowOffset(), source);
                adapter.checkFits(layer);
                if (m.slice() && m.up().dim(0) != sliceRows(layer, m)) {
                    throw new IllegalArgumentException(source + ": B has " + m.up().dim(0) + " rows, the slice of "
                            + m.bflModule() + " at row " + m.rowOffset() + " has " + sliceRows(layer, m));
                }
                byLayer.computeIfAbsent(layer, l -> new ArrayList<>()).add(adapter);
                applied += m.keys().size();
            }
        }
        Kernels k = model.kernels();
        for (Map.Entry<Linear, List<LoraAdapter>> e : byLayer.entrySet()) {
            if (mode == LoraMode.RUNTIME) {
                e.getValue().forEach(e.getKey()::addAdapter);
            } else {
                Tensor[] merged = merge(k, e.getKey(), e.getValue());
                e.getKey().setMergedWeight(merged[0], merged[1]);
            }
        }
        return "applied " + applied + " of " + total + " LoRA tensors (" + byLayer.size() + " layers, "
                + mode.name().toLowerCase(java.util.Locale.ROOT) + ")";
    }

    /** Rows of the part of a fused layer a diffusers module denotes: hidden for q, k, v; the rest for proj_mlp. */
    private static int sliceRows(Linear layer, LoraModule m) {
        int hidden = layer.inFeatures();
        return m.rowOffset() >= 3 * hidden ? layer.outFeatures() - m.rowOffset() : hidden;
    }

    /**
     * {W0 + sum s B A, b0 + sum s b} as private F32 copies; W0 is read, never written.
     */
    static Tensor[] merge(Kernels k, Linear layer, List<LoraAdapter> adapters) {
        Tensor w = layer.baseWeight().toF32();                                   // [out, in], this layer only
        Tensor b = layer.baseBias() == null ? null : layer.baseBias().toF32();   // [out]
        for (LoraAdapter a : adapters) {
            // B A as a linear: rows of B times columns of A = B [rows, r] (A^T [in, r])^T
            Tensor delta = k.scale(k.linear(a.up().toF32(), k.transpose(a.down().toF32()), null, Activation.NONE),
                    a.scale());                                                  // [rows, in]
            w = SliceAdd.ROWS.add(k, w, a.rowOffset(), delta);
            if (a.upBias() != null) {
                Tensor bias = k.scale(a.upBias().toF32(), a.scale()).reshape(a.rows(), 1);
                int out = layer.outFeatures();
                Tensor base = (b != null ? b : Tensor.zeros(out)).reshape(out, 1);
                b = SliceAdd.ROWS.add(k, base, a.rowOffset(), bias).reshape(out);
            }
        }
        return new Tensor[]{w, b};
    }
}
