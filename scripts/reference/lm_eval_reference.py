#!/usr/bin/env python3
"""Produce golden zero-shot results with lm-evaluation-harness on local data files.

Runs lm-eval's Hugging Face backend on a model folder with the task definitions of
lm-eval 0.4.3, pointed at local JSON/CSV files instead of the Hugging Face hub, and
writes a condensed copy of the per-request log-likelihoods and the aggregate metrics.
dartquant's tests compare their own scores against these files.

The script installs its own tools: on the first call it creates a virtual environment
(default /tmp/dartquant-lm-eval-venv) with pinned versions from PyPI and re-runs itself
inside it. Nothing here is needed to build or test dartquant.

Usage:
    python3 scripts/reference/lm_eval_reference.py \
        --model ../shared/data/models/stories260K --data-dir ../shared/data \
        --output tests/data/lm_eval_stories260K
"""

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Versions that install together on Python 3.11 (lm-eval 0.4.3 was released in July 2024;
# the other pins are from the same months so that its imports work).
PINNED_PACKAGES = [
    "lm-eval==0.4.3",
    "transformers==4.43.4",
    "torch==2.3.1",
    "datasets==2.20.0",
    "numpy==1.26.4",
    "pyarrow==16.1.0",
    "pandas==2.2.2",
    "peft==0.11.1",
    "accelerate==0.32.1",
    "evaluate==0.4.2",
    "huggingface-hub==0.23.5",
    "scikit-learn==1.5.1",
    "scipy==1.13.1",
    "fsspec==2024.5.0",
    "protobuf==4.25.3",
    "sentencepiece==0.2.3",
]

REPO_ROOT = Path(__file__).resolve().parents[2]

# The nine zero-shot tasks of the DartQuant tables, by lm-eval name.
TASKS = [
    "winogrande",
    "social_iqa",
    "piqa",
    "openbookqa",
    "lambada_openai",
    "hellaswag",
    "arc_easy",
    "arc_challenge",
]

# lm-eval 0.4.3 `mmlu/default/*.yaml`: the category group of every subject.
MMLU_CATEGORIES = {
    "stem": [
        "abstract_algebra", "anatomy", "astronomy", "college_biology", "college_chemistry",
        "college_computer_science", "college_mathematics", "college_physics", "computer_security",
        "conceptual_physics", "electrical_engineering", "elementary_mathematics", "high_school_biology",
        "high_school_chemistry", "high_school_computer_science", "high_school_mathematics",
        "high_school_physics", "high_school_statistics", "machine_learning",
    ],
    "other": [
        "business_ethics", "clinical_knowledge", "college_medicine", "global_facts", "human_aging",
        "management", "marketing", "medical_genetics", "miscellaneous", "nutrition",
        "professional_accounting", "professional_medicine", "virology",
    ],
    "social_sciences": [
        "econometrics", "high_school_geography", "high_school_government_and_politics",
        "high_school_macroeconomics", "high_school_microeconomics", "high_school_psychology",
        "human_sexuality", "professional_psychology", "public_relations", "security_studies",
        "sociology", "us_foreign_policy",
    ],
    "humanities": [
        "formal_logic", "high_school_european_history", "high_school_us_history",
        "high_school_world_history", "international_law", "jurisprudence", "logical_fallacies",
        "moral_disputes", "moral_scenarios", "philosophy", "prehistory", "professional_law",
        "world_religions",
    ],
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=REPO_ROOT.parent / "shared/data/models/stories260K")
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared/data",
                        help="folder with tasks/<task>/ in the layout dartquant reads")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "tests/data/lm_eval_stories260K")
    parser.add_argument("--limit", type=int, default=200, help="first N items of each task")
    parser.add_argument("--mmlu-limit", type=int, default=4, help="first N items of each MMLU subject")
    parser.add_argument("--mmlu-fewshot-limit", type=int, default=2,
                        help="first N items of each MMLU subject for the 5-shot run (0 skips it)")
    parser.add_argument("--venv", type=Path, default=Path("/tmp/dartquant-lm-eval-venv"))
    parser.add_argument("--no-install", action="store_true", help="run with the current interpreter")
    return parser.parse_args()


def ensure_venv(args):
    """Create the pinned environment and re-run this script inside it."""
    if args.no_install or Path(sys.prefix).resolve() == args.venv.resolve():
        return
    python = args.venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(args.venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PINNED_PACKAGES], check=True)
    os.execv(str(python), [str(python), *sys.argv])


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# Local task definitions: each YAML includes lm-eval's own task file (so prompts,
# choices, targets and metrics are lm-eval's) and replaces only where the rows come
# from. `process_docs` turns our files' rows into the Hugging Face dataset rows that
# lm-eval's templates expect.

UTILS_SOURCE = r'''
import json

from lm_eval.tasks.hellaswag.utils import preprocess as hellaswag_preprocess

LABEL_FILES = __LABEL_FILES__


def _labels(task):
    with open(LABEL_FILES[task], encoding="utf-8") as stream:
        return [line.strip() for line in stream if line.strip()]


def piqa_docs(dataset):
    labels = _labels("piqa")
    return dataset.map(lambda doc, i: {"label": int(labels[i])}, with_indices=True)


def social_iqa_docs(dataset):
    labels = _labels("social_iqa")
    return dataset.map(lambda doc, i: {"label": labels[i]}, with_indices=True)


def _choices(question):
    return {"text": [c["text"] for c in question["choices"]], "label": [c["label"] for c in question["choices"]]}


def arc_docs(dataset):
    return dataset.map(lambda doc: {"question": doc["question"]["stem"], "choices": _choices(doc["question"])},
                       remove_columns=["question"])


def openbookqa_docs(dataset):
    return dataset.map(lambda doc: {"question_stem": doc["question"]["stem"], "choices": _choices(doc["question"])},
                       remove_columns=["question"])


def hellaswag_docs(dataset):
    # The local file keeps only ctx = ctx_a + " " + ctx_b, so lm-eval's capitalisation of
    # ctx_b cannot be applied; everything else is lm-eval's own preprocess.
    def process(doc):
        return {
            "query": hellaswag_preprocess(doc["activity_label"] + ": " + doc["ctx"]),
            "choices": [hellaswag_preprocess(ending) for ending in doc["endings"]],
            "gold": int(doc["label"]),
        }
    return dataset.map(process)
'''


def yaml_text(config):
    # JSON is valid YAML; `!function` tags are written by the caller where needed.
    return json.dumps(config, indent=2)


def write_task_configs(config_dir, data_dir, mmlu_dir):
    lm_eval_tasks = Path(__import__("lm_eval").__file__).parent / "tasks"
    tasks = data_dir / "tasks"
    label_files = {
        "piqa": str(tasks / "piqa/valid-labels.lst"),
        "social_iqa": str(tasks / "social_iqa/dev-labels.lst"),
    }
    (config_dir / "dq_utils.py").write_text(UTILS_SOURCE.replace("__LABEL_FILES__", repr(label_files)))

    specs = {
        "winogrande": ("winogrande/default.yaml", tasks / "winogrande/dev.jsonl", None),
        "social_iqa": ("siqa/siqa.yaml", tasks / "social_iqa/dev.jsonl", "social_iqa_docs"),
        "piqa": ("piqa/piqa.yaml", tasks / "piqa/valid.jsonl", "piqa_docs"),
        "openbookqa": ("openbookqa/openbookqa.yaml", tasks / "openbookqa/test.jsonl", "openbookqa_docs"),
        "lambada_openai": ("lambada/lambada_openai.yaml", tasks / "lambada_openai/lambada_test.jsonl", None),
        "hellaswag": ("hellaswag/hellaswag.yaml", tasks / "hellaswag/validation.jsonl", "hellaswag_docs"),
        "arc_easy": ("arc/arc_easy.yaml", tasks / "arc_easy/test.jsonl", "arc_docs"),
        "arc_challenge": ("arc/arc_challenge.yaml", tasks / "arc_challenge/test.jsonl", "arc_docs"),
    }
    files = {}
    for name, (stock, data_file, process) in specs.items():
        config = {
            "include": str(lm_eval_tasks / stock),
            "task": f"dq_{name}",
            "group": "dq_reference",
            "dataset_path": "json",
            "dataset_name": None,
            "dataset_kwargs": {"data_files": {"test": str(data_file)}},
            "training_split": None,
            "validation_split": None,
            "test_split": "test",
        }
        text = yaml_text(config)
        if process:
            text = text.rstrip("}\n") + f',\n  "process_docs": !function dq_utils.{process}\n}}\n'
        (config_dir / f"dq_{name}.yaml").write_text(text)
        files[name] = [data_file]

    # MMLU: our CSVs become rows of the Hugging Face `cais/mmlu` schema. Python's csv module
    # reads them so that every field stays a string, because pandas would turn "0.50" into 0.5.
    mmlu_files = []
    for category, subjects in MMLU_CATEGORIES.items():
        for subject in subjects:
            data_files = {}
            for split in ("test", "dev"):
                source = tasks / "mmlu" / split / f"{subject}_{split}.csv"
                target = mmlu_dir / f"{subject}_{split}.jsonl"
                with open(source, encoding="utf-8", newline="") as stream, open(target, "w", encoding="utf-8") as out:
                    for row in csv.reader(stream, strict=True):
                        question, a, b, c, d, answer = row
                        out.write(json.dumps({"question": question, "subject": subject, "choices": [a, b, c, d],
                                              "answer": "ABCD".index(answer)}) + "\n")
                data_files[split] = str(target)
                mmlu_files.append(source)
            config = {
                "include": str(lm_eval_tasks / "mmlu/default/_default_template_yaml"),
                "task": f"dq_mmlu_{subject}",
                "task_alias": subject,
                "group": f"dq_mmlu_{category}",
                "dataset_path": "json",
                "dataset_name": None,
                "dataset_kwargs": {"data_files": data_files},
                "test_split": "test",
                "fewshot_split": "dev",
                "description": "The following are multiple choice questions (with answers) about "
                               + subject.replace("_", " ") + ".\n\n",
            }
            (config_dir / f"dq_mmlu_{subject}.yaml").write_text(yaml_text(config))
    (config_dir / "dq_mmlu.yaml").write_text(
        yaml_text({"group": "dq_mmlu", "task": [f"dq_mmlu_{category}" for category in MMLU_CATEGORIES]}))
    files["mmlu"] = mmlu_files
    return files


# ---------------------------------------------------------------------------

def run_lm_eval(model_dir, tasks, limit, num_fewshot, config_dir):
    import lm_eval
    from lm_eval.tasks import TaskManager

    started = time.time()
    output = lm_eval.simple_evaluate(
        model="hf",
        model_args=f"pretrained={model_dir},dtype=float32,use_fast_tokenizer=False",
        tasks=tasks,
        num_fewshot=num_fewshot,
        batch_size=1,
        device="cpu",
        limit=limit,
        log_samples=True,
        task_manager=TaskManager(include_path=str(config_dir)),
    )
    return output, time.time() - started


def condense_samples(samples):
    """Condense lm-eval's samples to one row per document: the requests it built and their
    scores."""
    rows = []
    for sample in sorted(samples, key=lambda s: s["doc_id"]):
        requests = []
        for arguments, response in zip(sample["arguments"], sample["resps"]):
            context, continuation = arguments
            loglikelihood, is_greedy = response[0]
            requests.append({"context": context, "continuation": continuation,
                             "loglikelihood": float(loglikelihood), "is_greedy": bool(is_greedy)})
        row = {"doc_id": sample["doc_id"], "target": sample["target"], "requests": requests}
        for metric in ("acc", "acc_norm"):
            if metric in sample:
                row[metric] = sample[metric]
        rows.append(row)
    return rows


def plain_metrics(metrics):
    return {key.split(",")[0]: value for key, value in metrics.items()
            if key.endswith(",none") and isinstance(value, (int, float))}


def main():
    args = parse_args()
    ensure_venv(args)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import importlib.metadata

    import torch
    import transformers

    torch.manual_seed(1234)
    model_dir = args.model.resolve()
    data_dir = args.data_dir.resolve()
    args.output.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="dq-lm-eval-") as temp:
        config_dir = Path(temp) / "tasks"
        mmlu_dir = Path(temp) / "mmlu"
        config_dir.mkdir()
        mmlu_dir.mkdir()
        data_files = write_task_configs(config_dir, data_dir, mmlu_dir)

        runs = [("zero_shot", [f"dq_{task}" for task in TASKS], args.limit, 0),
                ("mmlu", ["dq_mmlu"], args.mmlu_limit, 0)]
        if args.mmlu_fewshot_limit > 0:
            runs.append(("mmlu_5shot", ["dq_mmlu"], args.mmlu_fewshot_limit, 5))

        summary = {
            "generated_by": "scripts/reference/lm_eval_reference.py",
            "versions": {"lm_eval": importlib.metadata.version("lm_eval"), "transformers": transformers.__version__,
                         "torch": torch.__version__, "python": sys.version.split()[0]},
            "model": {"path": str(model_dir), "model.safetensors": sha256(model_dir / "model.safetensors"),
                      "tokenizer.model": sha256(model_dir / "tokenizer.model")},
            "model_args": "dtype=float32,use_fast_tokenizer=False (slow SentencePiece tokenizer), batch_size=1, cpu",
            "data": {task: {str(path.relative_to(data_dir)): sha256(path) for path in paths}
                     for task, paths in data_files.items()},
            "runs": {},
        }
        for run_name, tasks, limit, num_fewshot in runs:
            output, seconds = run_lm_eval(model_dir, tasks, limit, num_fewshot, config_dir)
            results = {name.removeprefix("dq_"): plain_metrics(metrics) for name, metrics in output["results"].items()}
            summary["runs"][run_name] = {"limit": limit, "num_fewshot": num_fewshot, "seconds": round(seconds, 1),
                                         "results": results}
            # One file per task; the MMLU subjects share one file, in lm-eval's task order.
            files = {}
            for task_name, samples in output["samples"].items():
                name = task_name.removeprefix("dq_")
                file_name = "mmlu" if name.startswith("mmlu_") else name
                rows = condense_samples(samples)
                if file_name == "mmlu":
                    for row in rows:
                        row["subject"] = name.removeprefix("mmlu_")
                files.setdefault(file_name, []).extend(rows)
            suffix = "_5shot" if num_fewshot else ""
            for file_name, rows in files.items():
                with open(args.output / f"{file_name}{suffix}.jsonl", "w", encoding="utf-8") as out:
                    for row in rows:
                        out.write(json.dumps(row, ensure_ascii=False) + "\n")
            print(f"{run_name}: {seconds:.1f} s", file=sys.stderr)

    (args.output / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
