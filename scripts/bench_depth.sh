#!/usr/bin/env bash
# Peak RSS of `quantize --method quarot` (GPTQ weights, W4A4KV4, --out) on
# synthetic Llama models of one width at several depths. With layer-by-layer
# streaming the peak must not grow with depth by more than 10%.
# Prints a Markdown table with the machine, date and commands.
# Usage: [DEPTHS="8 32 128"] [WORK=/tmp/dartquant-depth] [THREADS=1] scripts/bench_depth.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DARTQUANT_DATA="${DARTQUANT_DATA:-$(cd .. && pwd)/shared/data}"
depths=(${DEPTHS:-8 32 128})
work="${WORK:-/tmp/dartquant-depth}"
threads="${THREADS:-1}"
bin="${DARTQUANT_BIN:-./build/dartquant}"
shape=(--arch llama --hidden 512 --intermediate 1408 --heads 8 --kv-heads 8 --vocab 512 --max-position 512
       --dtype bfloat16)
mkdir -p "$work"
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
load=$(cut -d' ' -f1 /proc/loadavg)

echo "machine: $cpu, $(nproc) cores; load average at start: $load; date: $(date -u +%Y-%m-%d)"
echo
echo "synthetic model: ${shape[*]} --tokenizer-from \$DARTQUANT_DATA/models/stories260K"
echo
echo "| layers | checkpoint MiB | peak RSS MiB | estimate MiB | growth vs first | seconds |"
echo "|---|---|---|---|---|---|"
first=""
for layers in "${depths[@]}"; do
  model="$work/synth-$layers"
  if [ ! -d "$model" ]; then
    "$bin" synth "${shape[@]}" --layers "$layers" --tokenizer-from "$DARTQUANT_DATA/models/stories260K" \
      --out "$model" --log-level warn
  fi
  "$bin" quantize --model "$model" --method quarot --bits 4-4-4 --nsamples 8 --seqlen 128 \
    --threads "$threads" --data-dir "$DARTQUANT_DATA" --out "$work/out-$layers" --overwrite \
    --output "$work/results-$layers.json" --log-level warn
  row=$(python3 - "$work/results-$layers.json" "$model" "$layers" "${first:-0}" <<'PY'
import json, os, sys
path, model, layers, first = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
q = json.load(open(path))["config"]["quantization"]
size = sum(os.path.getsize(os.path.join(model, f)) for f in os.listdir(model) if f.endswith(".safetensors"))
peak = q["peak_rss_bytes"]
growth = "" if first == 0 else f"{100.0 * (peak - first) / first:+.1f}%"
print(f"{peak}||| {layers} | {size / 2**20:.0f} | {peak / 2**20:.0f} | {q['memory']['estimate_bytes'] / 2**20:.0f} | "
      f"{growth or 'baseline'} | {q['seconds']:.0f} |")
PY
)
  first="${first:-${row%%|||*}}"
  echo "|${row#*|||}"
done
echo
echo "command per depth: \`./build/dartquant quantize --model synth-N --method quarot --bits 4-4-4 --nsamples 8" \
     "--seqlen 128 --threads $threads --data-dir \$DARTQUANT_DATA --out out-N --output results-N.json\`"
