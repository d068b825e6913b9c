#!/usr/bin/env bash
# WikiText-2 eval throughput of `dartquant eval --tasks wiki` against Hugging Face transformers
# in PyTorch eager mode (scripts/reference/transformers_eval_throughput.py): same model, windows,
# seqlen 512, float32 and thread count, the two runs back to back so they see the same load.
# Prints the machine line and a Markdown table with the ratio and both perplexities, which must
# agree to float rounding.
#
# Usage: [THREADS="1 2"] [LIMIT=W] [DARTQUANT=path] [PYTHON=python3] scripts/bench_eval_vs_torch.sh [model ...]
# PYTHON needs torch, transformers and sentencepiece.
set -euo pipefail
cd "$(dirname "$0")/.."
export DARTQUANT_DATA="${DARTQUANT_DATA:-$(cd .. && pwd)/shared/data}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
dartquant="${DARTQUANT:-./build/dartquant}"
python="${PYTHON:-python3}"
thread_counts="${THREADS:-1 2}"
limit="${LIMIT:-32}"
wiki="$DARTQUANT_DATA/wikitext-2-raw/wiki.test.raw"
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(stories260K tiny-llama-5m tiny-mixtral tiny-deepseek-moe)
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
load=$(cut -d' ' -f1 /proc/loadavg)
versions=$("$python" -c 'import torch, transformers; print(f"torch {torch.__version__}, transformers {transformers.__version__}")')

echo "machine: $cpu, $(nproc) cores; load average at start: $load; date: $(date -u +%Y-%m-%d); $versions"
echo
echo "| model | windows × seqlen | threads | dartquant tok/s | transformers eager tok/s | ratio | dartquant ppl | transformers ppl |"
echo "|---|---|---|---|---|---|---|---|"
for model in "${models[@]}"; do
  for threads in $thread_counts; do
    ours=$(mktemp)
    theirs=$(mktemp)
    OMP_NUM_THREADS=$threads "$dartquant" eval --model "$DARTQUANT_DATA/models/$model" --tasks wiki --seqlen 512 \
      --limit "$limit" --threads "$threads" --output "$ours" --log-level warn >/dev/null 2>&1
    # A model that transformers cannot load offline leaves $theirs empty; the row says so.
    OMP_NUM_THREADS=$threads "$python" scripts/reference/transformers_eval_throughput.py \
      --model "$DARTQUANT_DATA/models/$model" --wiki "$wiki" --seqlen 512 --limit "$limit" --threads "$threads" \
      >"$theirs" 2>"$theirs.err" || true
    python3 - "$ours" "$theirs" "$model" "$limit" "$threads" <<'PY'
import json, sys
ours_path, theirs_path, model, limit, threads = sys.argv[1:]
ours = json.load(open(ours_path))["results"]["wiki"]
lines = [line for line in open(theirs_path).read().splitlines() if line.startswith("{")]
if lines:
    theirs = json.loads(lines[-1])
    assert theirs["windows"] == ours["windows"], (theirs["windows"], ours["windows"])
    ratio = ours["tokens_per_second"] / theirs["tokens_per_second"]
    their_columns = f"{theirs['tokens_per_second']:.0f} | {ratio:.2f}× | {ours['ppl']:.4f} | {theirs['perplexity']:.4f}"
else:
    their_columns = f"not loadable offline | – | {ours['ppl']:.4f} | –"
print(f"| {model} | {ours['windows']} × 512 | {threads} | {ours['tokens_per_second']:.0f} | {their_columns} |")
PY
    rm -f "$ours" "$theirs" "$theirs.err"
  done
done
