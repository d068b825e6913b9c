#!/usr/bin/env python3
"""DartQuant R1/R2 rotation training in plain PyTorch, for timing against bench/calibration_bench.

Two subcommands:

  collect  Runs a Hugging Face Llama model on WikiText-2 windows. It saves the
           activations that dartquant trains on in one safetensors file:
             r1  [chunks, tokens, hidden]: the normalized inputs of q_proj and of the MLP
                 (gate_proj) of every layer, one chunk per (window, layer, site), as
                 dartquant keeps them for R1;
             r2  [windows, tokens, heads·head_dim]: the o_proj inputs of one layer, R2's data;
           and a seeded random orthogonal start for each (r1_start [1, n, n],
           r2_start [kv_heads, d, d]). The model's shape goes in the file's metadata.

  train    Trains one rotation on that file with the loop of dartquant's
           calibration::train_rotation: latent Z (float32), R = Q of QR(Z) recomputed
           at every step, per-token Whip loss sum(exp(-|x·R|)) / tokens, chunks visited in
           the same seeded order (splitmix64 + std::mt19937_64 Fisher-Yates, as
           src/calibration/seeding.cpp), `--batch` chunks per batch, gradients summed over
           `--accumulation` batches and divided by it, SGD with momentum at a constant
           learning rate. Autograd runs through the whole loss here; dartquant computes the
           Whip gradient by hand and uses autograd only through the QR. Prints one JSON
           object: seconds, optimizer steps, per-epoch mean loss.

Usage:
    python3 scripts/reference/calibration_reference.py collect \
        --model ../shared/data/models/tiny-llama-5m \
        --wiki ../shared/data/wikitext-2-raw/wiki.test.raw --out /tmp/activations.safetensors
    python3 scripts/reference/calibration_reference.py train \
        --activations /tmp/activations.safetensors --rotation r1 --threads 1
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MASK64 = (1 << 64) - 1


def derive_seed(seed, stream):
    """splitmix64 of the seed and stream, as dartquant's calibration::derive_seed."""
    z = (seed + 0x9E3779B97F4A7C15 * (stream + 1)) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


class Mt19937_64:
    """The 64-bit Mersenne Twister of C++'s std::mt19937_64 (same constants, same outputs)."""

    def __init__(self, seed):
        self.state = [seed & MASK64]
        for i in range(1, 312):
            previous = self.state[-1]
            self.state.append((6364136223846793005 * (previous ^ (previous >> 62)) + i) & MASK64)
        self.index = 312

    def _twist(self):
        upper, lower = 0xFFFFFFFF80000000, 0x7FFFFFFF
        for i in range(312):
            x = (self.state[i] & upper) | (self.state[(i + 1) % 312] & lower)
            shifted = x >> 1
            if x & 1:
                shifted ^= 0xB5026F5AA96619E9
            self.state[i] = self.state[(i + 156) % 312] ^ shifted
        self.index = 0

    def __call__(self):
        if self.index >= 312:
            self._twist()
        y = self.state[self.index]
        self.index += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & MASK64


def seeded_permutation(n, seed):
    """Fisher-Yates with generator() % (i + 1), as dartquant's calibration::seeded_permutation."""
    order = list(range(n))
    generator = Mt19937_64(seed)
    for i in range(n - 1, 0, -1):
        j = generator() % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def collect(args):
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from transformers_eval_throughput import token_stream, wiki_text

    torch.manual_seed(args.seed)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="eager",
                                                 local_files_only=True).eval()
    config = model.config
    ids = token_stream(args.model, wiki_text(args.wiki))
    windows = torch.tensor(ids[: args.windows * args.seqlen]).view(args.windows, args.seqlen)

    r1_chunks, r2_chunks = [], []
    hooks = []
    for index, layer in enumerate(model.model.layers):
        hooks.append(layer.self_attn.q_proj.register_forward_pre_hook(
            lambda module, inputs: r1_chunks.extend(inputs[0].unbind(0))))
        hooks.append(layer.mlp.gate_proj.register_forward_pre_hook(
            lambda module, inputs: r1_chunks.extend(inputs[0].unbind(0))))
        if index == args.r2_layer:
            hooks.append(layer.self_attn.o_proj.register_forward_pre_hook(
                lambda module, inputs: r2_chunks.extend(inputs[0].unbind(0))))
    with torch.inference_mode():
        model(input_ids=windows, use_cache=False)
    for hook in hooks:
        hook.remove()

    # Keep a seeded subset of the R1 chunks, as dartquant keeps a fraction of them.
    keep = torch.randperm(len(r1_chunks))[: args.r1_chunks]
    r1 = torch.stack([r1_chunks[i] for i in keep.tolist()]).contiguous()
    r2 = torch.stack(r2_chunks).contiguous()
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    kv_heads = config.num_key_value_heads

    def random_orthogonal(groups, n):
        return torch.linalg.qr(torch.randn(groups, n, n, dtype=torch.float64))[0].float().contiguous()

    tensors = {
        "r1": r1,
        "r2": r2,
        "r1_start": random_orthogonal(1, config.hidden_size),
        "r2_start": random_orthogonal(kv_heads, head_dim),
    }
    metadata = {
        "model": os.path.basename(os.path.normpath(args.model)),
        "r1_shape": json.dumps([1, 1, config.hidden_size]),
        "r2_shape": json.dumps([kv_heads, config.num_attention_heads // kv_heads, head_dim]),
        "r2_layer": str(args.r2_layer),
        "seed": str(args.seed),
    }
    save_file(tensors, args.out, metadata=metadata)
    print(json.dumps({name: list(tensor.shape) for name, tensor in tensors.items()}))


def to_heads(x, groups, rep, n):
    """x [tokens, groups·rep·n] -> [groups, tokens·rep, n]: the rows that R[g] multiplies."""
    tokens = x.shape[0]
    return x.reshape(tokens, groups, rep, n).permute(1, 0, 2, 3).reshape(groups, tokens * rep, n)


def train(args):
    import torch
    from safetensors import safe_open

    torch.set_num_threads(args.threads)
    with safe_open(args.activations, framework="pt") as handle:
        chunks = handle.get_tensor(args.rotation)
        start = handle.get_tensor(args.rotation + "_start")
        groups, rep, n = json.loads(handle.metadata()[args.rotation + "_shape"])

    count = chunks.shape[0]
    batches = (count + args.batch - 1) // args.batch
    latent = start.clone().requires_grad_(True)
    optimizer = torch.optim.SGD([latent], lr=args.lr, momentum=args.momentum)
    epoch_loss = []
    steps = 0

    begin = time.perf_counter()
    for epoch in range(args.epochs):
        order = seeded_permutation(count, derive_seed(args.seed, epoch))
        loss_sum = 0.0
        pending = 0
        optimizer.zero_grad()
        for b in range(batches):
            rotation = torch.linalg.qr(latent).Q
            members = order[b * args.batch : (b + 1) * args.batch]
            whip = 0
            for k in members:
                y = torch.bmm(to_heads(chunks[k], groups, rep, n), rotation)
                whip = whip + torch.exp(-y.abs()).sum()
            tokens = len(members) * chunks.shape[1]
            batch_loss = whip / tokens
            (batch_loss / args.accumulation).backward()
            loss_sum += batch_loss.item()
            pending += 1
            if pending == args.accumulation or b + 1 == batches:
                optimizer.step()
                optimizer.zero_grad()
                steps += 1
                pending = 0
        epoch_loss.append(loss_sum / batches)
    seconds = time.perf_counter() - begin

    print(json.dumps({
        "rotation": args.rotation,
        "chunks": count,
        "tokens_per_chunk": chunks.shape[1],
        "shape": [groups, rep, n],
        "epochs": args.epochs,
        "steps": steps,
        "threads": torch.get_num_threads(),
        "seconds": seconds,
        "epoch_loss": epoch_loss,
        "torch": torch.__version__,
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    collect_parser = commands.add_parser("collect", help="save R1/R2 activations of a Llama model")
    collect_parser.add_argument("--model", required=True, help="Hugging Face Llama model folder")
    collect_parser.add_argument("--wiki", required=True, help="wiki.test.raw of wikitext-2-raw-v1")
    collect_parser.add_argument("--out", required=True, help="output .safetensors file")
    collect_parser.add_argument("--windows", type=int, default=64, help="WikiText-2 windows (default 64)")
    collect_parser.add_argument("--seqlen", type=int, default=512, help="tokens per window (default 512)")
    collect_parser.add_argument("--r1-chunks", type=int, default=128, help="R1 chunks kept (default 128)")
    collect_parser.add_argument("--r2-layer", type=int, default=0, help="layer whose o_proj inputs are R2's data")
    collect_parser.add_argument("--seed", type=int, default=0, help="seed of the R1 subset and the starts")

    train_parser = commands.add_parser("train", help="train R1 or R2 on a collected file")
    train_parser.add_argument("--activations", required=True, help="file written by collect")
    train_parser.add_argument("--rotation", choices=["r1", "r2"], required=True)
    train_parser.add_argument("--epochs", type=int, default=10)
    train_parser.add_argument("--batch", type=int, default=64, help="chunks per batch (default 64)")
    train_parser.add_argument("--accumulation", type=int, default=1, help="batches per optimizer step")
    train_parser.add_argument("--lr", type=float, default=0.002, help="SGD learning rate (default 0.002)")
    train_parser.add_argument("--momentum", type=float, default=0.9)
    train_parser.add_argument("--seed", type=int, default=0, help="seed of the chunk order")
    train_parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")

    args = parser.parse_args()
    collect(args) if args.command == "collect" else train(args)


if __name__ == "__main__":
    sys.exit(main())
