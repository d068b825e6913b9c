#!/usr/bin/env bash
# WikiText-2 perplexity of dartquant at 4-4-4 and 4-4-16 over three seeds for
# the shared models. Each seed calibrates once (4-4-4 run, --save-rotations)
# and the 4-4-16 run reuses those rotations (--rotations): calibration does not
# depend on the bit setting. Writes results/dartquant/*.json, logs each
# command to stderr, and prints the tables of scripts/summarize_dartquant.py.
# Usage: [THREADS=N] [TOOL=path/to/dartquant] [SEEDS="0 1 2"] scripts/results_dartquant.sh [--limit N] [model ...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/results_args.sh
seeds=(${SEEDS:-0 1 2})
out_dir=results/dartquant
mkdir -p "$out_dir"

show() {  # a command line as the log prints it
  echo "$*" | sed -e "s|$DARTQUANT_DATA|\$DARTQUANT_DATA|g" -e "s|^$tool |dartquant |"
}

for model in "${models[@]}"; do
  dir="$DARTQUANT_DATA/models/$model"
  for seed in "${seeds[@]}"; do
    rotations="$out_dir/$model-seed$seed.rotations.safetensors"
    for bits in 4-4-4 4-4-16; do
      out="$out_dir/$model-$bits-seed$seed.json"
      cmd=("$tool" quantize --model "$dir" --method dartquant --bits "$bits" --seed "$seed" --eval wiki
           --eval-seqlen 512 "${limit_args[@]}" --threads "${THREADS:-0}" --output "$out")
      if [ "$bits" = 4-4-4 ]; then
        cmd+=(--save-rotations "$rotations")
      else
        cmd+=(--rotations "$rotations")
      fi
      echo "# $(show "${cmd[@]}")" >&2
      "${cmd[@]}" > /dev/null 2>> "$out_dir/$model.log"
    done
  done
done

python3 scripts/summarize_dartquant.py "$out_dir" "${models[@]}"
