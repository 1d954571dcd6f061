#!/usr/bin/env bash
# Runs our benchmarks and the PyTorch peers in one session, interleaved so that both see the
# same load on a shared machine: per GEMM shape, torch.matmul, then JMH's GemmBenchmark, then
# torch.matmul again; then `anyrefill bench` between two runs of bench/peer/torch_blocks.py
# (1 double + 1 single block, 2048 + 512 tokens); with `train`, one LoRA training step (rank 128)
# of `anyrefill bench --train` between two of bench/peer/torch_train.py. Compare ours with the
# torch runs around it. JMH warms up for 3 x 4 s (the GEMM's JIT settles within them; with
# one 2 s warm-up the first measured iterations were still slow) and measures 5 x 4 s; the
# torch script times its products after one warm-up product.
# Usage: bench/peer/compare.sh [gemm|blocks|train|all]   (after ./mvnw -q -DskipTests package)
# Needs /usr/bin/python3 with torch (Debian: apt-get install python3-torch libopenblas0-pthread).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/bin/find-jdk"
anyrefill_find_jdk
py=${PYTHON:-/usr/bin/python3}
what=${1:-all}
shapes=${SHAPES:-2048x3072x3072,2560x3072x9216,2048x3072x12288,512x12288x3072}
if [ "$what" = gemm ] || [ "$what" = all ]; then
  for shape in ${shapes//,/ }; do
    echo "== $shape: torch.matmul (float32, 2 threads), JMH GemmBenchmark (BF16 weights), torch.matmul"
    "$py" "$root/bench/peer/torch_gemm.py" --shapes "$shape"
    "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -jar "$root/bench/target/benchmarks.jar" \
        GemmBenchmark -p shape="$shape" -wi 3 -w 4 -i 5 -r 4 2>&1 | grep -E '^GemmBenchmark'
    "$py" "$root/bench/peer/torch_gemm.py" --shapes "$shape"
  done
fi
if [ "$what" = blocks ] || [ "$what" = all ]; then
  blocks=(--double 1 --single 1 --image-tokens 2048 --text-tokens 512)
  echo "== PyTorch peer (DoubleStreamBlock + SingleStreamBlock, float32), anyrefill bench, PyTorch peer"
  "$py" "$root/bench/peer/torch_blocks.py" "${blocks[@]}"
  "$root/bin/anyrefill" bench --preset real-width "${blocks[@]}" --warmup 2 2>/dev/null
  "$py" "$root/bench/peer/torch_blocks.py" "${blocks[@]}"
fi
if [ "$what" = train ] || [ "$what" = all ]; then
  # three warm-up steps: the step a long run repeats (JIT done, the heap grown to what a step needs)
  blocks=(--double 1 --single 1 --image-tokens 2048 --text-tokens 512 --lora-rank 128 --warmup 3)
  echo "== PyTorch peer (LoRA training step, autograd, float32), anyrefill bench --train, PyTorch peer"
  "$py" "$root/bench/peer/torch_train.py" "${blocks[@]}"
  "$root/bin/anyrefill" bench --train --preset real-width "${blocks[@]}" 2>/dev/null
  "$py" "$root/bench/peer/torch_train.py" "${blocks[@]}"
fi
