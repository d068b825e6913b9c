#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets from the real files of the shared data folder.

Usage: make_corpus.py DATA_DIR OUT_DIR

Writes OUT_DIR/<target>/<seed> for the targets config, safetensors, tokenizer_json and tasks.
Seeds are the real files or small derivations of them (first rows, shrunk tensors, a reduced
vocabulary), so that each execution stays fast. The top of each fuzz/fuzz_*.cpp describes its
input layout. Nothing here is written into the repository.
"""

import csv
import io
import json
import struct
import sys
from pathlib import Path

# Safetensors element sizes in bytes, by dtype name.
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}

# Rows kept from each task file: enough to reach the per-row checks, few enough to stay fast.
TASK_ROWS = 3


def write_seed(out_dir: Path, name: str, data: bytes) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / name).write_bytes(data)


def first_lines(path: Path, count: int) -> bytes:
    with path.open("rb") as handle:
        return b"".join(handle.readline() for _ in range(count))


def config_seeds(data: Path, out: Path) -> None:
    for path in sorted((data / "models").glob("*/config.json")):
        write_seed(out, f"{path.parent.name}-config.json", path.read_bytes())


def safetensors_seeds(data: Path, out: Path) -> None:
    files = sorted((data / "models").glob("*/*.safetensors")) + sorted((data / "eval-streams-tok512").glob("*.safetensors"))
    for path in files:
        stem = f"{path.parent.name}-{path.stem}"
        raw = path.read_bytes()
        (length,) = struct.unpack("<Q", raw[:8])
        header_text = raw[8 : 8 + length]
        data_section = raw[8 + length :]

        # Layout 0x00 + file bytes: the real file cut to its header and 4 KiB of data.
        write_seed(out, f"{stem}-raw", b"\0" + raw[: 8 + length + 4096])
        # Layout JSON [0x00 data]: the real header with no data section.
        write_seed(out, f"{stem}-header", header_text)

        # The same tensors with every dimension cut to at most 2, holding their first real bytes.
        header = json.loads(header_text)
        shrunk = {}
        shrunk_data = bytearray()
        for name, entry in header.items():
            if name == "__metadata__":
                shrunk[name] = entry
                continue
            shape = [min(dim, 2) for dim in entry["shape"]]
            count = 1
            for dim in shape:
                count *= dim
            size = count * DTYPE_BYTES[entry["dtype"]]
            begin = entry["data_offsets"][0]
            shrunk[name] = {
                "dtype": entry["dtype"],
                "shape": shape,
                "data_offsets": [len(shrunk_data), len(shrunk_data) + size],
            }
            shrunk_data += data_section[begin : begin + size]
        write_seed(out, f"{stem}-shrunk", json.dumps(shrunk).encode() + b"\0" + bytes(shrunk_data))


def tokenizer_seeds(data: Path, out: Path) -> None:
    path = data / "models" / "deepseek-llm-tokenizer" / "tokenizer.json"
    document = json.loads(path.read_bytes())
    vocab = document["model"]["vocab"]
    merges = document["model"]["merges"]
    # The 256 single-byte tokens of byte-level BPE, so that any text can be encoded.
    byte_tokens = {token for token in vocab if len(token) == 1}
    for keep in (300, 2000):
        # Dense ids in the original order, then the added tokens after them, as Hugging Face
        # tokenizers numbers added tokens that are not in the vocabulary.
        kept_tokens = sorted((index, token) for token, index in vocab.items() if index < keep or token in byte_tokens)
        reduced_vocab = {token: new_id for new_id, (_, token) in enumerate(kept_tokens)}
        kept_merges = []
        for merge in merges:
            left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
            if left in reduced_vocab and right in reduced_vocab and left + right in reduced_vocab:
                kept_merges.append(merge)
        added = [dict(entry, id=len(reduced_vocab) + offset) for offset, entry in enumerate(document["added_tokens"])]
        added_ids = {entry["content"]: entry["id"] for entry in added}
        post_processor = json.loads(json.dumps(document["post_processor"]))
        for special in post_processor.get("special_tokens", {}).values():
            special["ids"] = [added_ids[token] for token in special["tokens"]]
        reduced = dict(document, added_tokens=added, post_processor=post_processor)
        reduced["model"] = dict(document["model"], vocab=reduced_vocab, merges=kept_merges)
        write_seed(out, f"deepseek-llm-vocab{keep}.json", json.dumps(reduced, ensure_ascii=False).encode())


def tasks_seeds(data: Path, out: Path) -> None:
    tasks = data / "tasks"
    # (selector byte, main file, second file or None); selectors match kTaskFiles in fuzz_tasks.cpp.
    plain = [
        (0, tasks / "arc_easy" / "test.jsonl", None),
        (0, tasks / "arc_easy" / "arc_easy.llm-foundry.jsonl", None),
        (1, tasks / "arc_challenge" / "test.jsonl", None),
        (1, tasks / "arc_challenge" / "arc_challenge.llm-foundry.jsonl", None),
        (2, tasks / "hellaswag" / "validation.jsonl", None),
        (3, tasks / "lambada_openai" / "lambada_test.jsonl", None),
        (4, tasks / "openbookqa" / "test.jsonl", None),
        (5, tasks / "piqa" / "valid.jsonl", tasks / "piqa" / "valid-labels.lst"),
        (6, tasks / "social_iqa" / "dev.jsonl", tasks / "social_iqa" / "dev-labels.lst"),
        (7, tasks / "winogrande" / "dev.jsonl", tasks / "winogrande" / "dev-labels.lst"),
    ]
    for selector, main, second in plain:
        seed = bytes([selector]) + first_lines(main, TASK_ROWS)
        if second is not None:
            seed += b"\0" + first_lines(second, TASK_ROWS)
        write_seed(out, f"{main.parent.name}-{main.stem}", seed)

    # MMLU, released CSV: zero-shot, and two-shot with the dev split (selector 8 + 10 * shots).
    test_csv = tasks / "mmlu" / "test" / "abstract_algebra_test.csv"
    dev_csv = tasks / "mmlu" / "dev" / "abstract_algebra_dev.csv"
    test_rows = first_lines(test_csv, TASK_ROWS)
    dev_rows = first_lines(dev_csv, TASK_ROWS)
    write_seed(out, "mmlu-csv-0shot", bytes([8]) + test_rows)
    write_seed(out, "mmlu-csv-2shot", bytes([28]) + test_rows + b"\0" + dev_rows)

    # MMLU as Hugging Face JSON Lines rows (selector 9), converted from the same CSV rows.
    def to_jsonl(rows: bytes) -> bytes:
        lines = []
        for record in csv.reader(io.StringIO(rows.decode())):
            lines.append(json.dumps({"question": record[0], "choices": record[1:5], "answer": "ABCD".index(record[5])}))
        return ("\n".join(lines) + "\n").encode()

    write_seed(out, "mmlu-jsonl-2shot", bytes([29]) + to_jsonl(test_rows) + b"\0" + to_jsonl(dev_rows))


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: make_corpus.py DATA_DIR OUT_DIR")
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    if not (data / "MANIFEST.md").is_file():
        sys.exit(f"make_corpus.py: {data} has no MANIFEST.md; pass the shared data folder")
    config_seeds(data, out / "config")
    safetensors_seeds(data, out / "safetensors")
    tokenizer_seeds(data, out / "tokenizer_json")
    tasks_seeds(data, out / "tasks")


if __name__ == "__main__":
    main()
