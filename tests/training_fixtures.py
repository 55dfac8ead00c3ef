"""Shared fixtures of the training tests: a tiny word-level tokenizer, a tiny fixed data set, a toy RL reward.

Not a test module (no ``test_`` prefix); imported by tests/test_train_*.py and, through ``--reward_fn
tests.training_fixtures:toy_reward``, by the training subprocesses.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models train several times faster on one thread than on two threads competing with other processes
    for two cores (OpenMP spin-waits); restore the session's setting afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


SPECIALS = ("<pad>", "<s>", "</s>", "<unk>", "<mask>")
TARGET_WORD = "kind:"

_APPS = ("web", "api", "db", "cache", "worker", "queue")
_IMAGES = ("nginx", "redis", "postgres", "busybox")


def tiny_examples(n: int = 24) -> list[dict[str, str]]:
    """``n`` deterministic intent / pattern / YAML triples with a learnable intent -> YAML mapping."""
    rows = []
    for i in range(n):
        app, image, replicas = _APPS[i % len(_APPS)], _IMAGES[i % len(_IMAGES)], 1 + i % 3
        yaml_text = (
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\nspec:\n  replicas: {replicas}\n"
            f"  template:\n    spec:\n      containers:\n      - name: {app}\n        image: {image}\n"
        )
        rows.append(
            {
                "id": f"ex{i}",
                "intent": f"deploy {app} with {replicas} replicas of {image}",
                "k8s_pattern": "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: <int>",
                "yaml": yaml_text,
            }
        )
    return rows


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def tiny_tokenizer(texts: list[str] | None = None) -> PreTrainedTokenizerFast:
    """A whitespace word-level tokenizer (ids 0-4 = CodeT5's specials) whose encodings end with ``</s>``."""
    if texts is None:
        texts = [t for r in tiny_examples() for t in (r["intent"], r["k8s_pattern"], r["yaml"])]
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=list(SPECIALS), show_progress=False))
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>",
        mask_token="<mask>",
    )  # fmt: skip


def save_tiny_tokenizer(folder: Path) -> Path:
    tiny_tokenizer().save_pretrained(folder)
    return folder


def write_tiny_data(root: Path, n: int, n_train: int) -> dict[str, Path]:
    """``n`` tiny examples as train (the first ``n_train``) / validation JSONL files, plus a saved tiny tokenizer."""
    rows = tiny_examples(n)
    return {
        "train": write_jsonl(root / "train.jsonl", rows[:n_train]),
        "validation": write_jsonl(root / "validation.jsonl", rows[n_train:]),
        "tokenizer": save_tiny_tokenizer(root / "tokenizer"),
    }


def toy_reward(completions: list[str], references: list[str]) -> list[float]:
    """Share of the completion's words that are ``kind:``: a reward a tiny random model can learn in seconds."""
    out = []
    for text in completions:
        words = text.split()
        out.append(sum(w == TARGET_WORD for w in words) / len(words) if words else 0.0)
    return out


#: flags of a tiny, dropout-free model on the tiny data; add --output_dir, --tokenizer_name_or_path, --train_file
TINY_MODEL_FLAGS = [
    "--init_from", "tiny",
    "--config_overrides", "dropout_rate=0.0,fusion_dropout=0.0",
    "--max_source_length", "16", "--max_pattern_length", "16", "--max_target_length", "40",
    "--report_to", "none", "--logging_steps", "1", "--warmup_steps", "0",
]  # fmt: skip
