#!/usr/bin/env bash
# Runs our benchmarks and the PyTorch peers back to back in one session, so their ratio is
# measured under the same load: GEMM (JMH vs torch.matmul) at FLUX shapes, then one forward of
# --double/--single blocks (`anyrefill bench` vs bench/peer/torch_blocks.py).
# Usage: bench/peer/compare.sh [gemm|blocks|all]   (after ./mvnw -q -DskipTests package)
# Needs /usr/bin/python3 with torch (Debian: apt-get install python3-torch libopenblas0-pthread).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/bin/find-jdk"
anyrefill_find_jdk
py=${PYTHON:-/usr/bin/python3}
what=${1:-all}
shapes=${SHAPES:-2048x3072x3072,2560x3072x9216,2048x3072x12288,512x12288x3072}
if [ "$what" = gemm ] || [ "$what" = all ]; then
  echo "== torch.matmul (float32, 2 threads)"
  "$py" "$root/bench/peer/torch_gemm.py" --shapes "$shapes"
  echo "== JMH GemmBenchmark (BF16 weights, F32 activations)"
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -jar "$root/bench/target/benchmarks.jar" \
      GemmBenchmark -p shape="$shapes" -wi 1 -i 3 -w 2 -r 4 -rf json -rff "${JMH_JSON:-/tmp/jmh-gemm.json}" 2>&1 \
      | grep -E '^(Benchmark|GemmBenchmark)'
fi
if [ "$what" = blocks ] || [ "$what" = all ]; then
  echo "== anyrefill bench (1 double + 1 single block, 2048 + 512 tokens)"
  "$root/bin/anyrefill" bench --preset real-width --double 1 --single 1 --image-tokens 2048 --text-tokens 512 --warmup 2 2>/dev/null
  echo "== PyTorch peer (the same two blocks, float32)"
  "$py" "$root/bench/peer/torch_blocks.py" --double 1 --single 1 --image-tokens 2048 --text-tokens 512
fi
