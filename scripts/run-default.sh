#!/usr/bin/env bash
# The main job on the default small model: installs dependencies, builds, and
# evaluates tiny-llama-5m on WikiText-2 (perplexity, seqlen 512).
# Data: $DARTQUANT_DATA, default ../shared/data beside the repository.
# Extra arguments go to `dartquant eval`, e.g. --model DIR or --limit 50.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh >/dev/null
export DARTQUANT_DATA="${DARTQUANT_DATA:-$(cd .. && pwd)/shared/data}"
mkdir -p results
exec ./build/dartquant eval --model "$DARTQUANT_DATA/models/tiny-llama-5m" --tasks wiki --seqlen 512 \
  --output results/tiny-llama-5m-fp.json "$@"
