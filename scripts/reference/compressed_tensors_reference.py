#!/usr/bin/env python3
"""Decompress dartquant's packed models with the compressed-tensors package and
compare the weights with dartquant's own dequantized weights.

For each case below the script runs `dartquant quantize --out` on a shared model,
then `dartquant inspect --dequantize` (the dense float32 weights exactly as
`dartquant eval` rebuilds them). compressed-tensors then decompresses every
packed Linear with PackedQuantizationCompressor and the scheme of its config
group, and, for weight-only folders, the whole folder with its converter
(`convert_checkpoint` with `CompressedTensorsDequantizer`, dtype float32). Every
packed Linear must come out bitwise identical. The summary is
written as JSON (committed as scripts/reference/compressed_tensors_check.json).

Usage (Python with compressed-tensors 0.20.1 installed, e.g. in a venv):
    python scripts/reference/compressed_tensors_reference.py \
        --dartquant build/dartquant --data-dir ../shared/data \
        --output scripts/reference/compressed_tensors_check.json
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

# Each case: model, dartquant quantize arguments. Together they cover symmetric
# and asymmetric weights, per-channel and grouped scales, 3-bit codes that
# straddle int32 words, every scale dtype, a sharded folder, and the expert
# Linears of both MoE models. Group sizes divide every input width:
# compressed-tensors cannot read a shorter last group (dartquant can).
CASES = [
    ("tiny-llama-5m", ["--method", "quarot", "--bits", "4-4-4", "--nsamples", "32",
                       "--set", "weights.group_size=16"]),
    ("tiny-llama-5m", ["--method", "rtn", "--bits", "4-16-16", "--set", "weights.symmetric=false",
                       "--set", "weights.group_size=0", "--scale-dtype", "bfloat16"]),
    ("stories260K", ["--method", "rtn", "--bits", "3-16-16", "--set", "weights.symmetric=false",
                     "--set", "weights.group_size=4", "--scale-dtype", "float16"]),
    ("tiny-deepseek-moe", ["--method", "gptq", "--bits", "4-4-4", "--nsamples", "32",
                           "--set", "weights.group_size=8", "--max-shard-size", "1MiB"]),
    ("tiny-mixtral", ["--method", "rtn", "--bits", "8-8-8", "--set", "weights.symmetric=false",
                      "--set", "weights.group_size=0", "--scale-dtype", "bfloat16"]),
]


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run(command):
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def load_folder(folder):
    from safetensors.torch import load_file

    tensors = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".safetensors"):
            tensors.update(load_file(os.path.join(folder, name)))
    return tensors


def decompress_modules(packed):
    """Decompress every packed Linear with compressed-tensors' PackedQuantizationCompressor
    and the scheme of the config group that targets it. All groups of a dartquant
    folder share one weight scheme, because they differ only in activation settings."""
    import re

    import torch
    from compressed_tensors.compressors import PackedQuantizationCompressor
    from compressed_tensors.quantization import QuantizationScheme

    config = json.load(open(os.path.join(packed, "config.json")))["quantization_config"]
    schemes = [QuantizationScheme.model_validate(group) for group in config["config_groups"].values()]

    def scheme_of(module):
        for scheme in schemes:
            for target in scheme.targets:
                if target == "Linear" or (target.startswith("re:") and re.match(target[3:], module)):
                    return scheme
        raise ValueError(f"no config group targets {module}")

    tensors = load_folder(packed)
    dense = {}
    for name in tensors:
        if name.endswith(".weight_packed"):
            module = name[: -len(".weight_packed")]
            state = {field: tensors[f"{module}.{field}"] for field in
                     ("weight_packed", "weight_scale", "weight_shape", "weight_zero_point")
                     if f"{module}.{field}" in tensors}
            dense[f"{module}.weight"] = PackedQuantizationCompressor.decompress(state, scheme_of(module))["weight"]
    return dense


def compare(ours, theirs):
    import torch

    identical = 0
    max_difference = 0.0
    missing = []
    for name, weight in ours.items():
        if name not in theirs:
            missing.append(name)
            continue
        other = theirs[name].to(torch.float32)
        if other.shape == weight.shape and torch.equal(other, weight):
            identical += 1
        else:
            difference = (other - weight).abs().max().item() if other.shape == weight.shape else float("inf")
            max_difference = max(max_difference, difference)
    return {"identical": identical, "missing": missing, "max_abs_difference": max_difference}


def check_case(dartquant, data_dir, model, arguments, work):
    import torch
    from compressed_tensors.entrypoints.convert import CompressedTensorsDequantizer, convert_checkpoint
    from safetensors.torch import load_file

    packed = os.path.join(work, "packed")
    ours_file = os.path.join(work, "dartquant_dense.safetensors")
    run([dartquant, "quantize", "--model", os.path.join(data_dir, "models", model), "--data-dir", data_dir,
         "--out", packed] + arguments)
    run([dartquant, "inspect", packed, "--dequantize", ours_file])
    ours = load_file(ours_file)
    config = json.load(open(os.path.join(packed, "config.json")))
    shards = sorted(name for name in os.listdir(packed) if name.endswith(".safetensors"))
    result = {
        "model": model,
        "arguments": arguments,
        "weights": config["quantization_config"]["config_groups"]["group_0"]["weights"],
        "scale_dtype": config["dartquant"]["scale_dtype"],
        "shards": len(shards),
        "packed_linears": len(ours),
        "per_module_decompress": compare(ours, decompress_modules(packed)),
    }

    # The folder converter infers each group's format from the scheme instead of
    # reading it. It takes integer weights with quantized inputs for W8A8
    # "int-quantized", so it can only read weight-only folders.
    groups = config["quantization_config"]["config_groups"].values()
    if all(group.get("input_activations") is None for group in groups):
        theirs = os.path.join(work, "compressed_tensors_dense")
        convert_checkpoint(packed, theirs, CompressedTensorsDequantizer(packed, dtype=torch.float32), max_workers=1,
                           device="cpu")
        result["folder_convert_checkpoint"] = compare(ours, load_folder(theirs))
    result["model_sha256"] = {name: sha256(os.path.join(packed, name)) for name in shards}
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dartquant", default="build/dartquant")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--output", default="scripts/reference/compressed_tensors_check.json")
    args = parser.parse_args()

    import compressed_tensors
    import torch

    results = []
    for model, arguments in CASES:
        work = tempfile.mkdtemp(prefix="dartquant-ct-")
        try:
            results.append(check_case(os.path.abspath(args.dartquant), os.path.abspath(args.data_dir), model,
                                      arguments, work))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(json.dumps(results[-1], indent=1)[:400], flush=True)

    version = subprocess.run([args.dartquant, "--version"], check=True, capture_output=True, text=True).stdout.strip()
    summary = {
        "compressed_tensors": compressed_tensors.__version__,
        "torch": torch.__version__,
        "dartquant": version,
        "all_identical": all(check["identical"] == r["packed_linears"] and not check["missing"]
                             for r in results
                             for key, check in r.items() if key in ("per_module_decompress",
                                                                     "folder_convert_checkpoint")),
        "cases": results,
    }
    with open(args.output, "w") as handle:
        json.dump(summary, handle, indent=2)
        handle.write("\n")
    print("all identical:", summary["all_identical"])
    return 0 if summary["all_identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
