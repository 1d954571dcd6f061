package dev.anyrefill.bench.jmh;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The arithmetic done, as a JMH secondary result: each benchmark adds its FLOP count (in
 * units of 10^9) per call, and JMH reports the field per second, which is GFLOP/s. It
 * appears in the results as the row {@code <benchmark>:gflop}, unit ops/s.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Flop {
    public double gflop;

    @Setup(Level.Iteration)
    public void clean() {
        gflop = 0;
    }
}
