"""PyTorch peer of the GEMM benchmarks: float32 x [M, K] @ W[N, K]^T at the JMH shapes.

Our code, not BFL's. Run with the system Python that has torch (Debian's python3-torch; with
libopenblas0-pthread installed torch's CPU matmul goes to OpenBLAS):

    /usr/bin/python3 bench/peer/torch_gemm.py [--threads 2] [--shapes 2048x3072x3072,...]

Prints one line per shape: mean seconds per product over the timed runs and GFLOP/s
(2 M N K / seconds), as JMH's throughput mode averages ours; the best run's rate as well.
"""
import argparse
import json
import time

import torch

FLUX_SHAPES = "2048x3072x3072,2560x3072x9216,2048x3072x12288,512x12288x3072"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--shapes", default=FLUX_SHAPES)
    p.add_argument("--runs", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for spec in a.shapes.split(","):
        m, k, n = (int(v) for v in spec.split("x"))
        x = torch.rand(m, k) * 2 - 1
        # BF16 weights widened to float32, as the model would run them in float32.
        w = ((torch.rand(n, k) * 2 - 1) / k ** 0.5).to(torch.bfloat16).to(torch.float32)
        with torch.inference_mode():
            torch.matmul(x, w.t())  # warm-up
            times = []
            for _ in range(a.runs):
                t0 = time.perf_counter()
                torch.matmul(x, w.t())
                times.append(time.perf_counter() - t0)
        flop = 2.0 * m * n * k
        mean = sum(times) / len(times)
        best = min(times)
        # The mean is what JMH's throughput mode reports for ours; the best run is shown too.
        print(json.dumps({"shape": spec, "mean_seconds": round(mean, 4), "gflops_per_s": round(flop / mean / 1e9, 1),
                          "best_gflops_per_s": round(flop / best / 1e9, 1),
                          "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
