#!/usr/bin/env bash
# Builds the libFuzzer targets into build-fuzz/, makes their seed corpora from the real files of
# the shared data folder, and runs each target for a fixed time, one after the other.
#
# Usage: scripts/fuzz.sh [--seconds N] [--build-only] [TARGET...]
#   TARGET       config, safetensors, tokenizer_json, tasks (default: all four)
#   --seconds N  run time per target in seconds (default 600, or $FUZZ_SECONDS)
#   --build-only build the targets and the seed corpora, run nothing
# Environment: DARTQUANT_DATA (default ../shared/data beside the repository), FUZZ_BUILD_DIR
# (default build-fuzz). Needs clang++ with libFuzzer: scripts/install-deps.sh --fuzz.
# On a shared machine run it under nice, e.g. `nice -n 10 scripts/fuzz.sh`.
#
# Layout under the build folder: seeds/<target> (rebuilt on every run), corpus/<target> (what the
# fuzzer found, kept between runs), artifacts/<target> (crash-*, timeout-*, oom-* inputs),
# logs/<target>.log (the full libFuzzer output) and logs/summary.tsv (one line per run).
# Exit status: 0 when every target ran its time without a finding, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-600}"
build_only=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    config|safetensors|tokenizer_json|tasks) targets+=("$1"); shift ;;
    *) echo "fuzz.sh: unknown argument '$1'; see the usage at the top of scripts/fuzz.sh" >&2; exit 2 ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  targets=(config safetensors tokenizer_json tasks)
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "fuzz.sh: --seconds must be a positive whole number, got '$seconds'" >&2
  exit 2
fi

data="${DARTQUANT_DATA:-$(cd .. && pwd)/shared/data}"
if [ ! -f "$data/MANIFEST.md" ]; then
  echo "fuzz.sh: shared data not found at $data (set DARTQUANT_DATA to the folder with MANIFEST.md)" >&2
  exit 1
fi
build="${FUZZ_BUILD_DIR:-build-fuzz}"

cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DDARTQUANT_BUILD_FUZZERS=ON \
  -DDARTQUANT_BUILD_TESTS=OFF -DDARTQUANT_USE_PCH=OFF >/dev/null
cmake --build "$build" --target fuzzers

# The seeds are made at run time so that no data file is ever copied into the repository.
rm -rf "$build/seeds"
python3 fuzz/make_corpus.py "$data" "$build/seeds"
if [ "$build_only" -eq 1 ]; then
  exit 0
fi

mkdir -p "$build/logs"
summary="$build/logs/summary.tsv"
if [ ! -f "$summary" ]; then
  printf 'finished_utc\ttarget\tseconds\texecs\texec_per_s\tcov\tft\tcorpus_units\tcorpus_bytes\tfindings\tslow_units\tload_before\tload_after\n' >"$summary"
fi
echo "fuzz.sh: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" >&2

failed=0
lines=()
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  artifacts="$build/artifacts/$target"
  log="$build/logs/$target.log"
  mkdir -p "$corpus" "$artifacts"
  started="$build/logs/$target.started"
  touch "$started"  # artifacts newer than this file are the findings of this run
  load_before="$(cut -d' ' -f1 /proc/loadavg)"
  echo "fuzz.sh: running fuzz_$target for $seconds s (log: $log)" >&2

  # -timeout: one input running longer than 30 s is a hang. The new inputs go to the first corpus
  # folder, so the seeds folder stays as generated.
  status=0
  "$build/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "$build/seeds/$target" >"$log" 2>&1 || status=$?

  load_after="$(cut -d' ' -f1 /proc/loadavg)"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  # The last status line ("#N DONE cov: C ft: F corp: U/Bb ...") carries the final coverage.
  last="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
  units="$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")"
  bytes="$(sed -n 's/.* corp: [0-9]*\/\([0-9]*[bKM]*\).*/\1/p' <<<"$last")"
  # slow-unit-* files only mark inputs slower than 10 s, which a busy machine also produces, so
  # they are counted apart from the findings (crash-*, leak-*, timeout-*, oom-*).
  findings="$(find "$artifacts" -type f -newer "$started" ! -name 'slow-unit-*' | wc -l)"
  slow="$(find "$artifacts" -type f -newer "$started" -name 'slow-unit-*' | wc -l)"
  if [ "$status" -ne 0 ]; then
    failed=1
    findings="$findings (exit $status, see $log)"
  fi
  line="$(date -u +%Y-%m-%dT%H:%MZ)	$target	$seconds	${execs:-?}	${rate:-?}	${cov:-?}	${ft:-?}	${units:-?}	${bytes:-?}	$findings	$slow	$load_before	$load_after"
  printf '%s\n' "$line" >>"$summary"
  lines+=("$line")
done

echo
printf 'finished_utc\ttarget\tseconds\texecs\texec_per_s\tcov\tft\tcorpus_units\tcorpus_bytes\tfindings\tslow_units\tload_before\tload_after\n'
printf '%s\n' "${lines[@]}"
exit "$failed"
