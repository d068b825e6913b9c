#!/usr/bin/env bash
# DartQuant R1/R2 rotation training time of dartquant (build/calibration_bench, the library's
# calibration::train_rotation) against the same loop in plain PyTorch
# (scripts/reference/calibration_reference.py train), on one activations file, same start,
# chunk order, settings and thread count, the two runs back to back. Prints the machine line
# and a Markdown table with the ratio and both runs' final-epoch Whip loss.
#
# Usage: [THREADS="1 2"] [ACTIVATIONS=file] [MODEL=tiny-llama-5m] [PYTHON=python3] \
#        scripts/bench_calibration_vs_torch.sh
# The activations file is collected once with transformers when it does not exist.
set -euo pipefail
cd "$(dirname "$0")/.."
export DARTQUANT_DATA="${DARTQUANT_DATA:-$(cd .. && pwd)/shared/data}"
python="${PYTHON:-python3}"
thread_counts="${THREADS:-1 2}"
model="${MODEL:-tiny-llama-5m}"
activations="${ACTIVATIONS:-/tmp/dartquant-calibration-$model.safetensors}"
reference=scripts/reference/calibration_reference.py

if [ ! -f "$activations" ]; then
  "$python" "$reference" collect --model "$DARTQUANT_DATA/models/$model" \
    --wiki "$DARTQUANT_DATA/wikitext-2-raw/wiki.test.raw" --out "$activations" >/dev/null
fi

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
load=$(cut -d' ' -f1 /proc/loadavg)
echo "machine: $cpu, $(nproc) cores; load average at start: $load; date: $(date -u +%Y-%m-%d); $model activations"
echo
echo "| rotation | chunks × tokens, [groups, rep, n] | threads | SGD steps | dartquant s | PyTorch s | ratio | final Whip dartquant | final Whip PyTorch |"
echo "|---|---|---|---|---|---|---|---|---|"
# Settings of configs/dartquant.json's defaults: R1 lr 0.002, batch 64, no accumulation;
# R2 lr 0.001, batch 64, accumulation 2; SGD momentum 0.9, 10 epochs.
for threads in $thread_counts; do
  for rotation in r1 r2; do
    if [ "$rotation" = r1 ]; then lr=0.002 accumulation=1; else lr=0.001 accumulation=2; fi
    ours=$(OMP_NUM_THREADS=$threads ./build/calibration_bench "$activations" $rotation 10 64 $accumulation $lr \
      "$threads" 0)
    theirs=$(OMP_NUM_THREADS=$threads "$python" "$reference" train --activations "$activations" \
      --rotation $rotation --epochs 10 --batch 64 --accumulation $accumulation --lr $lr --threads "$threads" --seed 0)
    python3 - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = (json.loads(text) for text in sys.argv[1:])
assert ours["steps"] == theirs["steps"], (ours["steps"], theirs["steps"])
size = f"{ours['chunks']} × {ours['tokens_per_chunk']}, {ours['shape']}"
ratio = theirs["seconds"] / ours["seconds"]
print(f"| {ours['rotation'].upper()} | {size} | {ours['threads']} | {ours['steps']} | {ours['seconds']:.2f} | "
      f"{theirs['seconds']:.2f} | {ratio:.2f}× | {ours['epoch_loss'][-1]:.4f} | {theirs['epoch_loss'][-1]:.4f} |")
PY
  done
done
