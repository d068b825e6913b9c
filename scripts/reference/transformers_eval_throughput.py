#!/usr/bin/env python3
"""Time WikiText-2 perplexity windows with Hugging Face transformers in PyTorch eager mode.

The reference side of scripts/bench_eval_vs_torch.sh. It builds the token stream as
`dartquant eval --tasks wiki` does (docs/architecture.md): the rows of wiki.test.raw joined
with "\\n\\n", BOS once, SentencePiece `tokenizer.model`, non-overlapping windows of
`--seqlen` tokens. The first `--limit` windows then go through the model in batches of
`--batch` windows, float32, attn_implementation="eager", no KV cache. Each window's loss is
the mean next-token cross-entropy over its seqlen - 1 predictions, and the perplexity is
exp(mean window loss). So the perplexity printed here must equal dartquant's to float
rounding, which shows that both sides computed the same thing.

The timer covers the forward passes and the losses only (not loading or tokenizing), as
dartquant's `seconds` does. One JSON object goes to stdout.

Needs torch, transformers and sentencepiece; nothing is downloaded (HF_HUB_OFFLINE=1).

Usage:
    python3 scripts/reference/transformers_eval_throughput.py \
        --model ../shared/data/models/tiny-llama-5m \
        --wiki ../shared/data/wikitext-2-raw/wiki.test.raw --limit 32 --threads 1
"""

import argparse
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def wiki_text(path):
    """Return the Hugging Face wikitext-2-raw-v1 test split as one string.

    The dataset rows are the file's lines with their trailing newline, except that
    whitespace-only lines become empty strings; the text is the rows joined with "\\n\\n".
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
    rows = ["" if line.strip() == "" else line for line in lines]
    return "\n\n".join(rows)


def token_stream(model_dir, text):
    import sentencepiece

    processor = sentencepiece.SentencePieceProcessor(model_file=str(Path(model_dir) / "tokenizer.model"))
    return [processor.bos_id()] + processor.encode(text)


def check_stream(model_dir, ids):
    """Compare the stream's SHA-256 with reference/ppl.json when the model folder has one.

    Returns "match", "mismatch" or "no reference".
    """
    reference = Path(model_dir) / "reference" / "ppl.json"
    if not reference.is_file():
        return "no reference"
    expected = json.loads(reference.read_text())["wikitext2_test"]["stream_sha256_int32le"]
    import numpy

    actual = hashlib.sha256(numpy.asarray(ids, dtype="<i4").tobytes()).hexdigest()
    return "match" if actual == expected else "mismatch"


def load_model(model_dir):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=torch.float32, attn_implementation="eager", local_files_only=True
    )
    model.eval()
    return model


def run(model, ids, seqlen, limit, batch):
    """Score the first `limit` windows; returns (window losses, seconds)."""
    import torch

    windows = min(limit, len(ids) // seqlen)
    stream = torch.tensor(ids[: windows * seqlen], dtype=torch.long).view(windows, seqlen)
    losses = []
    start = time.perf_counter()
    with torch.inference_mode():
        for first in range(0, windows, batch):
            window_ids = stream[first : first + batch]
            logits = model(input_ids=window_ids, use_cache=False).logits
            log_probs = logits[:, :-1, :].float().log_softmax(-1)
            nll = -log_probs.gather(-1, window_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            losses.extend(nll.double().mean(1).tolist())
    return losses, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="Hugging Face model folder with tokenizer.model")
    parser.add_argument("--wiki", required=True, help="wiki.test.raw of wikitext-2-raw-v1")
    parser.add_argument("--seqlen", type=int, default=512, help="tokens per window (default 512)")
    parser.add_argument("--limit", type=int, default=32, help="number of windows from the start (default 32)")
    parser.add_argument("--batch", type=int, default=8,
                        help="windows per forward pass (default 8, dartquant's 4096 tokens at seqlen 512)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    args = parser.parse_args()

    import torch
    import transformers

    torch.set_num_threads(args.threads)
    ids = token_stream(args.model, wiki_text(args.wiki))
    model = load_model(args.model)
    losses, seconds = run(model, ids, args.seqlen, args.limit, args.batch)
    mean_nll = sum(losses) / len(losses)
    tokens = len(losses) * args.seqlen
    print(json.dumps({
        "model": Path(args.model).name,
        "windows": len(losses),
        "seqlen": args.seqlen,
        "batch": args.batch,
        "threads": torch.get_num_threads(),
        "seconds": seconds,
        "tokens_per_second": tokens / seconds,
        "mean_nll": mean_nll,
        "perplexity": math.exp(mean_nll),
        "stream_tokens": len(ids),
        "stream_check": check_stream(args.model, ids),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }))


if __name__ == "__main__":
    sys.exit(main())
