package dev.anyrefill.kernels.tornado;

import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.WorkerGrid;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * One kernel launch as the backend records it.
 *
 * @param name      the part of the model and the operation, {@code double_blocks.3.img_attn.qkv:linear}
 *                  (the enclosing {@linkplain dev.anyrefill.kernels.Kernels#scope(String) scope}'s name)
 * @param kernel    the device kernel, with its variant where it has several ({@code linear/tiled})
 * @param scalars   its scalar arguments (sizes, epsilon, operation codes)
 * @param reads     the activation buffers it reads
 * @param residents the weights and parameters it reads
 * @param writes    the buffers it writes
 * @param grid      its grid, work-group size included
 * @param add       adds it to a task graph under a task name
 */
record Launch(String name, String kernel, List<Object> scalars, List<BufferPool.Buffer> reads,
              List<Program.Resident> residents, List<BufferPool.Buffer> writes, WorkerGrid grid,
              BiConsumer<TaskGraph, String> add) {

    /**
     * What makes two launches the same kernel call on the same arrays: everything but the name,
     * the grid (which follows from the scalars) and the builder.
     */
    List<Object> signature() {
        return List.of(kernel, scalars, reads, residents, writes);
    }

    /** The device arrays it names: what it reads, its residents, what it writes. */
    Set<Object> arrays() {
        Set<Object> arrays = new LinkedHashSet<>();
        reads.forEach(b -> arrays.add(b.array()));
        residents.forEach(r -> arrays.add(r.array()));
        writes.forEach(b -> arrays.add(b.array()));
        return arrays;
    }

    /**
     * Its task name in a graph: the step number (unique in a program) and the name with what an
     * OpenCL kernel name cannot hold replaced, {@code s41_double_blocks_3_img_attn_qkv_linear}.
     */
    String taskName(int step) {
        return "s" + step + "_" + name.replaceAll("[^A-Za-z0-9]", "_");
    }
}
