#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite through CTest.
# Test data: $DARTQUANT_DATA, default ../shared/data beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
export DARTQUANT_DATA="${DARTQUANT_DATA:-$(cd .. && pwd)/shared/data}"
if [ ! -f "$DARTQUANT_DATA/MANIFEST.md" ]; then
  echo "test: shared data not found at $DARTQUANT_DATA (set DARTQUANT_DATA to the folder with MANIFEST.md)" >&2
  exit 1
fi
ctest --test-dir build --output-on-failure -j "$(nproc)"
