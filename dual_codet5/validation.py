"""Score saved models (and retrieval) on the VALIDATION split: the numbers used to choose settings.

Each model reads the patterns it was trained with (`k8s_data.load_retrieval(folder)`: the bank and retrieval
settings saved beside every checkpoint); retrieval answers with the YAML of the nearest train intent. Greedy decoding,
scored by `k8s_scoring.score` against the reference. Used by `bench/bench_pattern_formats.py` and
`dual_codet5.learning_curve`; the test split is left to `evaluate_models.py`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from statistics import mean
from typing import Any

__all__ = ["validation_rows", "retrieval_scores", "model_scores", "summarize", "with_fallback"]


def validation_rows(max_examples: int | None = None) -> list[dict[str, Any]]:
    """The first `max_examples` validation examples of the bundled corpus (all of them for `None`)."""
    from k8s_data import BuildOptions, build_examples

    rows = build_examples(options=BuildOptions(pattern_mode="none"))
    validation = [r for r in rows if r["split"] == "validation"]
    return validation[:max_examples] if max_examples is not None else validation


def retrieval_scores(rows: Sequence[dict[str, Any]], adapt: bool = False) -> list[dict[str, float]]:
    """`score(retrieved manifest, reference)` per row, retrieval from the default (train split) bank; with `adapt`,
    the manifest adapted to the intent (`k8s_data.adapt`)."""
    from k8s_data import RetrievalConfig, retrieve_manifest
    from k8s_scoring import score

    config = RetrievalConfig(adapt_exemplar=adapt)
    return [score(retrieve_manifest(r["intent"], config=config), r["yaml"]) for r in rows]


def model_scores(
    folder: str | Path,
    rows: Sequence[dict[str, Any]],
    *,
    max_new_tokens: int = 384,
    batch_size: int = 16,
    lookup_bonus: float = 0.0,
) -> tuple[list[dict[str, float]], float]:
    """Greedy outputs of the model in `folder`, with the patterns it was trained with, scored per row.

    Returns:
        `(scores, seconds)`: one `k8s_scoring.score` dict per row and the wall time of loading + generating.
    """
    from dual_codet5.inference import generate_yaml, load_for_inference
    from k8s_data import load_retrieval
    from k8s_scoring import score

    start = time.perf_counter()
    bank, config = load_retrieval(folder)
    loaded = load_for_inference(str(folder))  # CUDA when present (the gpu preset's curve stage), else CPU
    patterns = [bank.pattern_for(r["intent"], config) for r in rows]
    outputs = generate_yaml(
        loaded, [r["intent"] for r in rows], patterns, batch_size=batch_size, max_new_tokens=max_new_tokens,
        num_beams=1, lookup_bonus=lookup_bonus,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    return [score(o[0], r["yaml"]) for o, r in zip(outputs, rows)], seconds


def with_fallback(model: Sequence[dict[str, float]], retrieval: Sequence[dict[str, float]]) -> list[dict[str, float]]:
    """The model's scores where its answer is schema-valid, else retrieval's (`--fallback retrieval`)."""
    return [m if m["schema_valid"] == 1 else r for m, r in zip(model, retrieval)]


def summarize(scores: Sequence[dict[str, float]]) -> dict[str, float]:
    """Mean CodeBLEU (x100), schema-valid %, quality and BP % (n/a values left out; NaN when none applies)."""

    def mean_of(key: str) -> float:
        values = [s[key] for s in scores if not math.isnan(s[key])]
        return float(mean(values)) if values else float("nan")

    return {
        "n": len(scores),
        "codebleu": 100 * mean_of("codebleu"),
        "schema_valid": 100 * mean_of("schema_valid"),
        "quality": mean_of("quality"),
        "bp": mean_of("bp"),
    }
