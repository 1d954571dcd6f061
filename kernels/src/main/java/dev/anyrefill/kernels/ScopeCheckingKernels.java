package dev.anyrefill.kernels;

import dev.anyrefill.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Checks the {@linkplain Kernels#scope() scope} protocol on a host backend: when a scope closes,
 * the results of its operations that it did not {@linkplain Scope#keep keep} (and the tensors it
 * was told it {@linkplain Kernels#scopeFreeing frees}) are filled with NaN. A model that forgets
 * a {@code keep()} then reads NaN on a laptop, where the device backend would have read freed
 * memory, instead of working until someone runs it with TornadoVM. The model tests run under it
 * ({@link Backends#java()} with {@code -Danyrefill.checkScopes=true}, set by the build for every
 * test).
 *
 * <p>Ownership follows the arrays: a reshape shares its tensor's array, so keeping either keeps
 * both. Only heap F32 results are tracked (the only kind the Java kernels make). Not thread-safe:
 * scopes belong to the one thread that runs a model's operations.
 */
public final class ScopeCheckingKernels extends ForwardingKernels {
    /** The system property that makes {@link Backends#java()} check scopes. */
    public static final String PROPERTY = "anyrefill.checkScopes";

    private CheckedScope innermost;

    public ScopeCheckingKernels(Kernels inner) {
        super(inner);
    }

    @Override
    protected <T> T call(String op, Supplier<T> body) {
        T result = body.get();
        if (innermost != null) {
            for (Tensor t : tensorsOf(result)) {
                innermost.adopt(t);
            }
        }
        return result;
    }

    @Override
    public Scope scopeFreeing(String name, Tensor... freedWithIt) {
        CheckedScope s = new CheckedScope(innermost);
        for (Tensor t : freedWithIt) {
            if (!t.isHeapF32()) {
                continue; // mapped weights and the like: no scope owns them
            }
            CheckedScope owner = s.parent == null ? null : s.parent.ownerOf(t);
            if (owner != null) {
                owner.owned.remove(t.data());
                s.owned.add(t.data());
            }
        }
        innermost = s;
        return s;
    }

    /** The tensors of an operation's result (a tensor, an array of them, or a gradient record). */
    private static List<Tensor> tensorsOf(Object result) {
        List<Tensor> all = new ArrayList<>(3);
        switch (result) {
            case Tensor t -> all.add(t);
            case Tensor[] ts -> all.addAll(Arrays.asList(ts));
            case AttentionOutput(Tensor out, Tensor lse) -> Collections.addAll(all, out, lse);
            case AttentionGrads(Tensor dq, Tensor dk, Tensor dv) -> Collections.addAll(all, dq, dk, dv);
            case NormGrads(Tensor dx, Tensor dScale, Tensor dShift) -> Collections.addAll(all, dx, dScale, dShift);
            case ConvGrads(Tensor dx, Tensor dw, Tensor db) -> Collections.addAll(all, dx, dw, db);
            case null, default -> {
            }
        }
        all.removeIf(t -> t == null || !t.isHeapF32());
        return all;
    }

    private final class CheckedScope implements Scope {
        final CheckedScope parent;
        /** The arrays of results made inside this scope (or handed to it), by identity. */
        final Set<float[]> owned = Collections.newSetFromMap(new IdentityHashMap<>());
        private boolean closed;

        CheckedScope(CheckedScope parent) {
            this.parent = parent;
        }

        void adopt(Tensor t) {
            if (ownerOf(t) == null) { // an array an enclosing scope owns stays there
                owned.add(t.data());
            }
        }

        CheckedScope ownerOf(Tensor t) {
            for (CheckedScope s = this; s != null; s = s.parent) {
                if (s.owned.contains(t.data())) {
                    return s;
                }
            }
            return null;
        }

        @Override
        public Tensor keep(Tensor t) {
            if (closed) {
                throw new IllegalStateException("keep() on a scope that has closed");
            }
            if (t.isHeapF32() && owned.remove(t.data()) && parent != null) {
                parent.owned.add(t.data());
            }
            return t;
        }

        @Override
        public void close() {
            if (innermost != this) {
                throw new IllegalStateException("Kernels scopes must close innermost first");
            }
            for (float[] a : owned) {
                Arrays.fill(a, Float.NaN);
            }
            owned.clear();
            closed = true;
            innermost = parent;
        }
    }
}
