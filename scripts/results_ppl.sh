#!/usr/bin/env bash
# WikiText-2 perplexity of FP, rtn, gptq and quarot at 4-4-16 and 4-4-4 for
# the shared models; writes one results JSON per run under results/ppl/ and
# prints a Markdown table with each run's command.
# Usage: [THREADS=N] [TOOL=path/to/dartquant] scripts/results_ppl.sh [--limit N] [model ...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/results_args.sh
mkdir -p results/ppl

json_value() {  # file, jq-like path of two keys
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d$2)" "$1"
}

echo "| model | bits | method | WIKI ppl | quantize s | peak RSS MiB | command |"
echo "|---|---|---|---|---|---|---|"
for model in "${models[@]}"; do
  dir="$DARTQUANT_DATA/models/$model"
  out="results/ppl/$model-fp.json"
  cmd=("$tool" eval --model "$dir" --tasks wiki --seqlen 512 "${limit_args[@]}" --threads "${THREADS:-0}" --output "$out")
  "${cmd[@]}" >/dev/null 2>&1
  echo "| $model | FP | - | $(json_value "$out" "['results']['wiki']['ppl']" | xargs printf '%.2f') | - | - | \`${cmd[*]#$tool }\` |" \
    | sed "s|$DARTQUANT_DATA|\$DARTQUANT_DATA|g"
  for bits in 4-4-16 4-4-4; do
    for method in rtn gptq quarot; do
      out="results/ppl/$model-$method-$bits.json"
      cmd=("$tool" quantize --model "$dir" --method "$method" --bits "$bits" --eval wiki --eval-seqlen 512
           "${limit_args[@]}" --threads "${THREADS:-0}" --output "$out")
      "${cmd[@]}" >/dev/null 2>&1
      ppl=$(json_value "$out" "['results']['wiki']['ppl']")
      seconds=$(json_value "$out" "['config']['quantization']['seconds']")
      rss=$(json_value "$out" "['config']['quantization']['peak_rss_bytes']")
      printf '| %s | %s | %s | %.2f | %.1f | %.0f | `%s` |\n' "$model" "$bits" "$method" "$ppl" "$seconds" \
        "$(echo "$rss / 1048576" | bc -l)" "$(echo "${cmd[*]#$tool }" | sed "s|$DARTQUANT_DATA|\$DARTQUANT_DATA|g")"
    done
  done
done
