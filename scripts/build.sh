#!/usr/bin/env bash
# Configures and builds dartquant (library, CLI, tests) into build/.
# Extra arguments go to cmake, e.g. -DCMAKE_PREFIX_PATH=... for a CUDA libtorch.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j "$(nproc)"
