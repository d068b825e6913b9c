# Shared start of the scripts/results_*.sh scripts (source it after cd to the
# repository root). Exports DARTQUANT_DATA (default ../shared/data) and reads
# the arguments "[--limit N] [model ...]" into limit_args and models (default:
# the four shared models); tool is $TOOL or ./build/dartquant.
export DARTQUANT_DATA="${DARTQUANT_DATA:-$(cd .. && pwd)/shared/data}"
limit_args=()
if [ "${1:-}" = "--limit" ]; then
  limit_args=(--limit "$2")
  shift 2
fi
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(stories260K tiny-llama-5m tiny-mixtral tiny-deepseek-moe)
tool="${TOOL:-./build/dartquant}"
