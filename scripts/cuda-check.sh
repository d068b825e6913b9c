#!/usr/bin/env bash
# GPU check, for a machine with an NVIDIA GPU and nvcc: builds dartquant against
# the libtorch inside the PyPI `torch` wheel (2.x, CUDA) in build-cuda/, runs
# the test suite, and times WikiText-2 eval and DartQuant calibration of
# tiny-llama-5m on the GPU. The summary goes to build-cuda/cuda-check.md.
# Usage: [TORCH_SPEC=torch] [DARTQUANT_DATA=...] scripts/cuda-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DARTQUANT_DATA="${DARTQUANT_DATA:-$(cd .. && pwd)/shared/data}"
build=build-cuda
mkdir -p "$build"
report="$build/cuda-check.md"

# 1. libtorch 2.x with CUDA from the torch wheel, in a virtual environment of its own.
if [ ! -x "$build/venv/bin/python" ]; then
  python3 -m venv "$build/venv"
  "$build/venv/bin/pip" install --quiet "${TORCH_SPEC:-torch}"
fi
prefix=$("$build/venv/bin/python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
torch_version=$("$build/venv/bin/python" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)')

# 2. The one CMake switch: CMAKE_PREFIX_PATH selects this libtorch instead of Debian's.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix"
cmake --build "$build" -j "$(nproc)"

# 3. The tests (on the CPU, as in CI), then GPU timings.
(cd "$build" && ctest --output-on-failure -j "$(nproc)" -E 'GoldenRegression|PerplexityTest') | tail -5 >"$build/ctest.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >"$build/gpu.txt"

model="$DARTQUANT_DATA/models/tiny-llama-5m"
"$build/dartquant" eval --model "$model" --device cuda --tasks wiki --seqlen 512 --limit 200 \
  --output "$build/eval-cuda.json" --log-level warn
"$build/dartquant" eval --model "$model" --device cpu --tasks wiki --seqlen 512 --limit 200 \
  --output "$build/eval-cpu.json" --log-level warn
"$build/dartquant" quantize --model "$model" --device cuda --method dartquant --bits 4-4-4 --nsamples 128 \
  --seqlen 512 --data-dir "$DARTQUANT_DATA" --no-resume --output "$build/quantize-cuda.json" --log-level warn

"$build/venv/bin/python" - "$build" "$torch_version" >"$report" <<'PY'
import json, sys
build, torch_version = sys.argv[1], sys.argv[2]
gpu = open(f"{build}/gpu.txt").read().strip()
ctest = open(f"{build}/ctest.txt").read().strip()
eval_gpu = json.load(open(f"{build}/eval-cuda.json"))["results"]["wiki"]
eval_cpu = json.load(open(f"{build}/eval-cpu.json"))["results"]["wiki"]
quantize = json.load(open(f"{build}/quantize-cuda.json"))["config"]["quantization"]
calibration = quantize["dartquant"]["report"]
print(f"GPU: {gpu}; torch wheel {torch_version}\n")
print(f"ctest (CPU): {ctest.splitlines()[-1] if ctest else 'no output'}\n")
print("| measurement | CUDA | CPU |")
print("|---|---|---|")
print(f"| WikiText-2 ppl, 200 × 512 | {eval_gpu['ppl']:.4f} | {eval_cpu['ppl']:.4f} |")
print(f"| eval tokens/s | {eval_gpu['tokens_per_second']:.0f} | {eval_cpu['tokens_per_second']:.0f} |")
print(f"| DartQuant calibration s (collection + optimization) | {calibration['seconds']:.1f} "
      f"({calibration['collection_seconds']:.1f} + {calibration['optimization_seconds']:.1f}) | |")
print(f"| quantize total s | {quantize['seconds']:.1f} | |")
PY
cat "$report"
