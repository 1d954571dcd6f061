package dev.anyrefill.cli;

import com.sun.management.GarbageCollectionNotificationInfo;

import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;

/**
 * Measures the Java heap a piece of work needs. Two bounds: the largest heap occupancy
 * right after any garbage collection during the work (live data then: a lower bound of the
 * peak live set, close to it when collections are frequent, i.e. under a tight -Xmx), and the
 * sum of the heap pools' peak occupancy (live data plus garbage not yet collected: an upper
 * bound). Both are reported above the baseline measured after a full collection before the work.
 */
final class HeapPeak implements AutoCloseable {
    private final List<NotificationEmitter> emitters = new ArrayList<>();
    private final NotificationListener listener = this::onGc;
    private final long baseline;
    private volatile long maxAfterGc;
    private volatile int collections;

    HeapPeak() {
        System.gc();
        baseline = heapUsed();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            pool.resetPeakUsage();
        }
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener(listener, null, null);
                emitters.add(emitter);
            }
        }
    }

    private void onGc(Notification n, Object handback) {
        if (!n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
            return;
        }
        GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
        long used = info.getGcInfo().getMemoryUsageAfterGc().values().stream().mapToLong(MemoryUsage::getUsed).sum();
        synchronized (this) {
            maxAfterGc = Math.max(maxAfterGc, used);
            collections++;
        }
    }

    static long heapUsed() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    long baseline() {
        return baseline;
    }

    /** Largest live heap seen after a collection, above the baseline (0 if none ran). */
    long liveAboveBaseline() {
        return Math.max(0, maxAfterGc - baseline);
    }

    /** Sum of the heap pools' peaks, above the baseline. */
    long peakAboveBaseline() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return Math.max(0, sum - baseline);
    }

    int collections() {
        return collections;
    }

    @Override
    public void close() {
        for (NotificationEmitter e : emitters) {
            try {
                e.removeNotificationListener(listener);
            } catch (javax.management.ListenerNotFoundException ignored) {
                // already gone
            }
        }
    }
}
