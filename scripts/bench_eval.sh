#!/usr/bin/env bash
# WikiText-2 eval throughput (tokens/s) of the shared models, seqlen 512.
# Prints a Markdown table row per model with the machine, date and command.
# Usage: [THREADS=N] [LIMIT=W] scripts/bench_eval.sh [model ...]
set -euo pipefail
cd "$(dirname "$0")/.."
export DARTQUANT_DATA="${DARTQUANT_DATA:-$(cd .. && pwd)/shared/data}"
threads="${THREADS:-0}"
limit="${LIMIT:-200}"
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(tiny-llama-5m tiny-mixtral tiny-deepseek-moe stories260K)
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
load=$(cut -d' ' -f1 /proc/loadavg)

echo "machine: $cpu, $(nproc) cores; load average at start: $load; date: $(date -u +%Y-%m-%d)"
echo
echo "| model | windows × seqlen | threads | tokens/s | seconds | command |"
echo "|---|---|---|---|---|---|"
for model in "${models[@]}"; do
  out=$(mktemp)
  cmd=(./build/dartquant eval --model "$DARTQUANT_DATA/models/$model" --tasks wiki --seqlen 512 --limit "$limit"
       --threads "$threads" --output "$out")
  "${cmd[@]}" >/dev/null 2>&1
  python3 - "$out" "$model" "$limit" "$threads" "${cmd[*]}" "$DARTQUANT_DATA" <<'PY'
import json, sys
path, model, limit, threads, command, data = sys.argv[1:]
wiki = json.load(open(path))["results"]["wiki"]
command = command.replace(data, "$DARTQUANT_DATA").split(" --output")[0]
print(f"| {model} | {limit} × 512 | {threads} | {wiki['tokens_per_second']:.0f} | {wiki['seconds']:.1f} | `{command}` |")
PY
  rm -f "$out"
done
