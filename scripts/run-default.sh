#!/usr/bin/env bash
# The main job on the default small model: installs dependencies, builds, then
# quantizes stories260K with DartQuant at W4A4KV4 (learned rotations + GPTQ)
# and evaluates the result on WikiText-2 (perplexity, seqlen 512).
# Data: $DARTQUANT_DATA, default ../shared/data beside the repository.
# Extra arguments go to `dartquant quantize`, e.g. --model DIR, --method quarot or --limit 50.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh >/dev/null
export DARTQUANT_DATA="${DARTQUANT_DATA:-$(cd .. && pwd)/shared/data}"
mkdir -p results
exec ./build/dartquant quantize --model "$DARTQUANT_DATA/models/stories260K" --method dartquant --bits 4-4-4 \
  --eval wiki --eval-seqlen 512 --save-rotations results/stories260K-rotations.safetensors \
  --output results/stories260K-dartquant-4-4-4.json "$@"
