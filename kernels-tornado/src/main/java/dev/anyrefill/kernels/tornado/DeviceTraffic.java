package dev.anyrefill.kernels.tornado;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the bytes the tornado backend moves between the host and the device: weights (once per
 * device copy), activations in and results out (every operation), and how many device
 * operations ran. {@link #snapshot} and {@link Snapshot#minus} give the traffic of one step.
 */
public final class DeviceTraffic {
    private final AtomicLong weightBytes = new AtomicLong();
    private final AtomicLong toDevice = new AtomicLong();
    private final AtomicLong toHost = new AtomicLong();
    private final AtomicLong launches = new AtomicLong();

    void weights(long bytes) {
        weightBytes.addAndGet(bytes);
    }

    void launch(long bytesIn, long bytesOut) {
        toDevice.addAndGet(bytesIn);
        toHost.addAndGet(bytesOut);
        launches.incrementAndGet();
    }

    public Snapshot snapshot() {
        return new Snapshot(weightBytes.get(), toDevice.get(), toHost.get(), launches.get());
    }

    /** Traffic totals at one moment. */
    public record Snapshot(long weightBytes, long activationBytesToDevice, long bytesToHost, long launches) {
        public Snapshot minus(Snapshot earlier) {
            return new Snapshot(weightBytes - earlier.weightBytes,
                    activationBytesToDevice - earlier.activationBytesToDevice,
                    bytesToHost - earlier.bytesToHost, launches - earlier.launches);
        }

        @Override
        public String toString() {
            return String.format("weights %.1f MB uploaded, activations %.1f MB to device, %.1f MB to host, %d kernel launches",
                    weightBytes / 1e6, activationBytesToDevice / 1e6, bytesToHost / 1e6, launches);
        }
    }
}
