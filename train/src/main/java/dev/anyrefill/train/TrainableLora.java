package dev.anyrefill.train;

import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.dit.Gradients;
import dev.anyrefill.dit.Linear;
import dev.anyrefill.dit.LoraAdapter;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.lora.LoraFile;
import dev.anyrefill.weights.lora.LoraModule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

/**
 * A LoRA being trained: per target linear, A [rank, in] and B [rows, rank] as F32 on the heap
 * (updated in place by the optimiser) and the scale alpha / rank; the base weight W0 stays
 * frozen in the mapped checkpoint. Attached to the model as runtime adapters, so the forward
 * is {@code h = W0 x + b + s B (A x)} and the backward reaches A and B through
 * {@link Gradients}.
 */
public final class TrainableLora {
    /**
     * AnyRefill's targets: the attention, projection and feed-forward linears (per double
     * block img/txt attn.qkv, attn.proj, mlp.0, mlp.2; per single block linear1, linear2).
     */
    public static final Pattern ANYREFILL_TARGETS = Pattern.compile(
            "double_blocks\\.\\d+\\.(img|txt)_(attn\\.(qkv|proj)|mlp\\.[02])|single_blocks\\.\\d+\\.linear[12]");

    /**
     * One trained module: A [rank, in], B [rows, rank]; {@code slice} when B covers only some
     * rows of the layer, from {@code rowOffset} (a PEFT file's to_q of a fused qkv).
     */
    public record Module(String name, Tensor a, Tensor b, float scale, int rowOffset, boolean slice,
                         LoraAdapter adapter) {
    }

    private final List<Module> modules;

    private TrainableLora(List<Module> modules) {
        this.modules = modules;
    }

    /**
     * A fresh LoRA on every linear whose BFL name matches {@code targets}, initialised as kohya
     * and PEFT do: A kaiming-uniform with a = sqrt(5) (uniform in +-1/sqrt(in)), B zero, so the
     * model starts unchanged.
     */
    public static TrainableLora fresh(FluxModel model, Pattern targets, int rank, double alpha, long seed) {
        if (rank < 1) {
            throw new IllegalArgumentException("LoRA rank must be at least 1, got " + rank);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Module> modules = new ArrayList<>();
        for (Linear layer : model.linears().values()) {
            if (!targets.matcher(layer.name()).matches()) {
                continue;
            }
            int in = layer.inFeatures();
            float[] a = new float[rank * in];
            double bound = 1 / Math.sqrt(in);
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) rnd.nextDouble(-bound, bound);
            }
            modules.add(module(layer.name(), Tensor.wrap(a, rank, in), Tensor.zeros(layer.outFeatures(), rank),
                    (float) (alpha / rank), 0, false, "new LoRA on " + layer.name()));
        }
        if (modules.isEmpty()) {
            throw new IllegalArgumentException("the LoRA target pattern '" + targets + "' matches no linear layer");
        }
        return new TrainableLora(modules);
    }

    /**
     * A LoRA read from a file (any layout {@code refill} reads), copied to the heap as F32 to be
     * trained. A B bias in the file is refused: this trainer does not train one.
     */
    public static TrainableLora fromFile(LoraFile file) {
        List<Module> modules = new ArrayList<>();
        for (LoraModule m : file.modules()) {
            if (m.upBias() != null) {
                throw new IllegalArgumentException(file.origin() + ": key '" + m.keys().getFirst()
                        + "' has a B bias, which training does not support");
            }
            modules.add(module(m.bflModule(), m.down().toF32(), m.up().toF32(), (float) m.scale(1.0), m.rowOffset(),
                    m.slice(), file.origin() + ": key '" + m.keys().getFirst() + "'"));
        }
        return new TrainableLora(modules);
    }

    private static Module module(String name, Tensor a, Tensor b, float scale, int rowOffset, boolean slice,
                                 String source) {
        LoraAdapter adapter = new LoraAdapter(a, b, null, scale, rowOffset, source);
        return new Module(name, a, b, scale, rowOffset, slice, adapter);
    }

    /** Adds every module to its layer of the model as a runtime adapter; an error for an unknown layer. */
    public void attach(FluxModel model) {
        Map<String, Linear> linears = model.linears();
        for (Module m : modules) {
            Linear layer = linears.get(m.name());
            if (layer == null) {
                throw new IllegalArgumentException("LoRA module " + m.name() + " is not a linear layer of this model");
            }
            layer.addAdapter(m.adapter());
        }
    }

    /** Marks every module as trained in grads. */
    public void register(Gradients grads) {
        for (Module m : modules) {
            grads.train(m.adapter(), m.name());
        }
    }

    /** The trained tensors by gradient name ({@code MODULE.lora_A}, {@code MODULE.lora_B}), updated in place. */
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> p = new LinkedHashMap<>();
        for (Module m : modules) {
            p.put(m.name() + ".lora_A", m.a());
            p.put(m.name() + ".lora_B", m.b());
        }
        return p;
    }

    public List<Module> modules() {
        return List.copyOf(modules);
    }
}
