package dev.anyrefill.kernels.tornado;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the bytes the tornado backend moves between the host and the device: weights and
 * parameters (once per compiled program), activations in and results out, and how many
 * programs, task graphs and kernels ran. {@link #snapshot} and {@link Snapshot#minus} give the traffic of one step.
 */
public final class DeviceTraffic {
    private final AtomicLong weightBytes = new AtomicLong();
    private final AtomicLong toDevice = new AtomicLong();
    private final AtomicLong toHost = new AtomicLong();
    private final AtomicLong launches = new AtomicLong();
    private final AtomicLong graphs = new AtomicLong();
    private final AtomicLong runs = new AtomicLong();

    void weights(long bytes) {
        weightBytes.addAndGet(bytes);
    }

    void toDevice(long bytes) {
        toDevice.addAndGet(bytes);
    }

    void toHost(long bytes) {
        toHost.addAndGet(bytes);
    }

    void launches(long n) {
        launches.addAndGet(n);
    }

    /** One program ran, as a chain of {@code graphs} task graphs. */
    void run(long graphs) {
        this.graphs.addAndGet(graphs);
        runs.incrementAndGet();
    }

    public Snapshot snapshot() {
        return new Snapshot(weightBytes.get(), toDevice.get(), toHost.get(), runs.get(), graphs.get(), launches.get());
    }

    /** Traffic totals at one moment. */
    public record Snapshot(long weightBytes, long activationBytesToDevice, long bytesToHost, long runs, long graphs,
            long launches) {
        public Snapshot minus(Snapshot earlier) {
            return new Snapshot(weightBytes - earlier.weightBytes,
                    activationBytesToDevice - earlier.activationBytesToDevice, bytesToHost - earlier.bytesToHost,
                    runs - earlier.runs, graphs - earlier.graphs, launches - earlier.launches);
        }

        @Override
        public String toString() {
            return String.format("weights %.1f MB uploaded, activations %.3f MB to device, %.3f MB to host, "
                            + "%d program runs (%d task graphs, %d kernel launches)",
                    weightBytes / 1e6, activationBytesToDevice / 1e6, bytesToHost / 1e6, runs, graphs, launches);
        }
    }
}
