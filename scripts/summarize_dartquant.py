#!/usr/bin/env python3
"""Summarizes the results JSONs of scripts/results_dartquant.sh as Markdown.

Usage: scripts/summarize_dartquant.py RESULTS_DIR MODEL...

Prints two tables. The first gives WikiText-2 perplexity per model and bit
setting (mean and sample standard deviation over the seeds found) with the
time per stage. The second gives the calibration quality: Whip loss and int4
error of the R1 and R2 activations at the random-Hadamard start and after
training, averaged over the seeds.
"""
import json
import statistics
import sys
from pathlib import Path


def load(path):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None


def mean_std(values):
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {std:.2f}"


def main():
    out_dir, models = Path(sys.argv[1]), sys.argv[2:]
    seeds = (0, 1, 2)

    print("| model | bits | seeds | WIKI ppl (mean ± std) | per seed | calibration s (collection + optimization) "
          "| GPTQ s | eval s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model in models:
        for bits in ("4-4-16", "4-4-4"):
            runs = [(seed, load(out_dir / f"{model}-{bits}-seed{seed}.json")) for seed in seeds]
            runs = [(seed, run) for seed, run in runs if run is not None]
            if not runs:
                continue
            learned = [load(out_dir / f"{model}-4-4-4-seed{seed}.json") for seed, _ in runs]
            reports = [run["config"]["quantization"]["dartquant"]["report"] for run in learned if run]
            ppl = [run["results"]["wiki"]["ppl"] for _, run in runs]
            gptq = statistics.mean(run["config"]["quantization"]["report"]["weight_seconds"] for _, run in runs)
            evaluation = statistics.mean(run["results"]["wiki"]["seconds"] for _, run in runs)
            rss = max(run["config"]["quantization"]["peak_rss_bytes"] for _, run in runs) / 2**20
            calib = " + ".join(f"{statistics.mean(r[key] for r in reports):.1f}"
                               for key in ("collection_seconds", "optimization_seconds"))
            total = statistics.mean(r["seconds"] for r in reports)
            print(f"| {model} | {bits} | {len(runs)} | {mean_std(ppl)} | {', '.join(f'{p:.2f}' for p in ppl)} "
                  f"| {total:.1f} ({calib}) | {gptq:.1f} | {evaluation:.1f} | {rss:.0f} |")

    print()
    print("| model | R1 Whip start → trained | R1 int4 error start → trained | R2 Whip start → trained (mean over "
          "layers) | R2 int4 error start → trained (mean over layers) |")
    print("|---|---|---|---|---|")
    for model in models:
        reports = [load(out_dir / f"{model}-4-4-4-seed{seed}.json") for seed in seeds]
        reports = [run["config"]["quantization"]["dartquant"]["report"] for run in reports if run]
        if not reports:
            continue

        def change(values_before, values_after, digits):
            before, after = statistics.mean(values_before), statistics.mean(values_after)
            return f"{before:.{digits}f} → {after:.{digits}f} ({100 * (after / before - 1):+.2f}%)"

        r1 = change([r["r1"]["initial"]["whip"] for r in reports], [r["r1"]["trained"]["whip"] for r in reports], 3)
        r1_err = change([r["r1"]["initial"]["int4_error"] for r in reports],
                        [r["r1"]["trained"]["int4_error"] for r in reports], 5)
        layer_mean = lambda r, stage, key: statistics.mean(layer[stage][key] for layer in r["r2"])
        r2 = change([layer_mean(r, "initial", "whip") for r in reports],
                    [layer_mean(r, "trained", "whip") for r in reports], 3)
        r2_err = change([layer_mean(r, "initial", "int4_error") for r in reports],
                        [layer_mean(r, "trained", "int4_error") for r in reports], 5)
        print(f"| {model} | {r1} | {r1_err} | {r2} | {r2_err} |")


if __name__ == "__main__":
    main()
