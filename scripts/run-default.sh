#!/usr/bin/env bash
# The main job on the default small model: installs dependencies, builds, then
# quantizes stories260K with DartQuant at W4A4KV4 (learned rotations + GPTQ),
# writes the packed model, evaluates it on WikiText-2 (perplexity, seqlen 512)
# and describes the packed folder.
# Data: $DARTQUANT_DATA, default ../shared/data beside the repository.
# Extra arguments go to `dartquant quantize`, e.g. --model DIR, --method quarot or --limit 50.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh >/dev/null
export DARTQUANT_DATA="${DARTQUANT_DATA:-$(cd .. && pwd)/shared/data}"
mkdir -p results
./build/dartquant quantize --model "$DARTQUANT_DATA/models/stories260K" --method dartquant --bits 4-4-4 \
  --eval wiki --eval-seqlen 512 --save-rotations results/stories260K-rotations.safetensors \
  --out results/stories260K-dartquant-w4a4kv4 --overwrite \
  --output results/stories260K-dartquant-4-4-4.json "$@"
./build/dartquant inspect results/stories260K-dartquant-w4a4kv4
