#!/usr/bin/env bash
# WikiText-2 perplexity of dartquant at 4-4-4 and 4-4-16 over three seeds for
# the shared models. Each seed calibrates once (4-4-4 run, --save-rotations)
# and the 4-4-16 run reuses those rotations (--rotations): calibration does not
# depend on the bit setting. Writes results/dartquant/*.json and prints a
# Markdown table (mean ± sample std over the seeds) with the commands.
# Usage: [THREADS=N] [TOOL=path/to/dartquant] [SEEDS="0 1 2"] scripts/results_dartquant.sh [--limit N] [model ...]
set -euo pipefail
cd "$(dirname "$0")/.."
export DARTQUANT_DATA="${DARTQUANT_DATA:-$(cd .. && pwd)/shared/data}"
limit_args=()
if [ "${1:-}" = "--limit" ]; then
  limit_args=(--limit "$2")
  shift 2
fi
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(stories260K tiny-llama-5m tiny-mixtral tiny-deepseek-moe)
tool="${TOOL:-./build/dartquant}"
seeds=(${SEEDS:-0 1 2})
out_dir=results/dartquant
mkdir -p "$out_dir"

show() {  # a command line as the table prints it
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

python3 - "$out_dir" "${models[@]}" <<'PY'
import json, statistics, sys
out_dir, models = sys.argv[1], sys.argv[2:]
print("| model | bits | WIKI ppl (mean ± std) | per seed | calibration s | collection s | optimization s | peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|")
for model in models:
    for bits in ("4-4-16", "4-4-4"):
        ppl, calib = [], []
        for seed in (0, 1, 2):
            try:
                run = json.load(open(f"{out_dir}/{model}-{bits}-seed{seed}.json"))
            except FileNotFoundError:
                continue
            ppl.append(run["results"]["wiki"]["ppl"])
            learned = json.load(open(f"{out_dir}/{model}-4-4-4-seed{seed}.json"))
            calib.append(learned["config"]["quantization"]["dartquant"]["report"])
        if not ppl:
            continue
        std = statistics.stdev(ppl) if len(ppl) > 1 else 0.0
        mean = lambda key: statistics.mean(r[key] for r in calib)
        print(f"| {model} | {bits} | {statistics.mean(ppl):.2f} ± {std:.2f} | {', '.join(f'{p:.2f}' for p in ppl)} "
              f"| {mean('seconds'):.1f} | {mean('collection_seconds'):.1f} | {mean('optimization_seconds'):.1f} "
              f"| {max(r['peak_rss_bytes'] for r in calib) / 2**20:.0f} |")
PY
