"""T5-style span corruption of the train split's YAML: the optional denoising pre-training before SFT.

``train_sft.py --objective span_corruption`` trains on these examples instead of (intent, pattern) -> YAML; a
normal SFT run then starts from its ``final/`` folder (``--init_from``). The objective is T5's (Raffel et al.,
2020, section 3.1.4): about ``noise_density`` of a sequence's tokens, in spans of mean length
``mean_noise_span_length``, are each replaced in the input by one sentinel, and the target is every sentinel
followed by the tokens it replaced. The corpus tokenizer has one mask token (``<mask>``, CodeT5's) and no numbered
sentinels, so every span is replaced by ``<mask>``; the spans keep their order, so the target still says which
tokens went where (the single-sentinel variant of the T5 paper's ablation).

Where the corrupted YAML goes: into the encoder that reads YAML during fine-tuning. The dual model gets it as its
pattern and an empty intent (``</s>`` alone); the single-encoder models get it as their one input. Each YAML is
first cut to ``max_length`` tokens (pre-training sees the start of long manifests: said in the log, not silent).

Example (``noise_density=0.5, mean_noise_span_length=2``, tokens ``a b c d e f``, mask = spans ``c d`` and ``f``)::

    input:  a b <mask> e <mask> </s>
    labels: <mask> c d <mask> f </s>
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["random_spans_noise_mask", "corrupt_spans", "span_corruption_dataset"]


def _random_segmentation(num_items: int, num_segments: int, rng: np.random.Generator) -> np.ndarray:
    """``num_items`` split at random into ``num_segments`` parts of length >= 1 (a composition, uniform cuts)."""
    cuts = np.sort(rng.choice(np.arange(1, num_items), size=num_segments - 1, replace=False))
    return np.diff(np.concatenate([[0], cuts, [num_items]]))


def random_spans_noise_mask(
    length: int, noise_density: float, mean_noise_span_length: float, rng: np.random.Generator
) -> np.ndarray:
    """Which of ``length`` tokens to corrupt, in spans (``t5.data.preprocessors.random_spans_noise_mask``).

    ``round(length * noise_density)`` tokens (at least 1, at most ``length - 1``) in
    ``round(noise / mean_noise_span_length)`` spans (at least 1); the sequence starts with a kept token.

    Returns:
        `np.ndarray` of shape `(length,)`, dtype bool: True where the token is corrupted.
    """
    if length < 2:
        raise ValueError(f"span corruption needs at least 2 tokens, got {length}")
    if not 0.0 < noise_density < 1.0:
        raise ValueError(f"noise_density must be in (0, 1), got {noise_density}")
    if mean_noise_span_length < 1.0:
        raise ValueError(f"mean_noise_span_length must be >= 1, got {mean_noise_span_length}")
    num_noise = min(max(int(round(length * noise_density)), 1), length - 1)
    num_spans = max(int(round(num_noise / mean_noise_span_length)), 1)
    num_spans = min(num_spans, num_noise, length - num_noise)  # every span and every gap holds >= 1 token
    noise_lengths = _random_segmentation(num_noise, num_spans, rng)
    keep_lengths = _random_segmentation(length - num_noise, num_spans, rng)
    mask = np.zeros(length, dtype=bool)
    position = 0
    for keep, noise in zip(keep_lengths, noise_lengths):  # kept, corrupted, kept, corrupted, ...
        position += int(keep)
        mask[position : position + int(noise)] = True
        position += int(noise)
    return mask


def corrupt_spans(ids: Sequence[int], mask: np.ndarray, sentinel_id: int, eos_id: int) -> tuple[list[int], list[int]]:
    """Input and target ids of one sequence (without its ``</s>``) under a noise ``mask``; both end with ``</s>``."""
    if len(ids) != len(mask):
        raise ValueError(f"{len(ids)} ids for a mask of {len(mask)}")
    inputs: list[int] = []
    labels: list[int] = []
    for i, (token, noise) in enumerate(zip(ids, mask)):
        if not noise:
            inputs.append(int(token))
            continue
        if i == 0 or not mask[i - 1]:  # a span starts: one sentinel in the input and one in the target
            inputs.append(sentinel_id)
            labels.append(sentinel_id)
        labels.append(int(token))
    return inputs + [eos_id], labels + [eos_id]


def span_corruption_dataset(
    texts: Sequence[str],
    tokenizer: Any,
    *,
    model_type: str,
    max_length: int,
    noise_density: float = 0.15,
    mean_noise_span_length: float = 3.0,
    seed: int = 0,
) -> tuple[Any, dict[str, float]]:
    """A `datasets.Dataset` of span-corrupted ``texts`` in the format ``model_type``'s SFT batches have.

    Args:
        texts: the YAML manifests (the train split's targets for pre-training; never validation or test).
        tokenizer: the corpus tokenizer (its ``mask_token_id`` is the sentinel).
        model_type: ``"dual"`` (YAML as the pattern, empty intent) or ``"single"`` / ``"baseline"`` (one input).
        max_length: each YAML is cut to this many tokens (``</s>`` included) before it is corrupted.
        noise_density, mean_noise_span_length: T5's defaults, 0.15 and 3.
        seed: the corruption's random seed (the same seed gives the same examples).

    Returns:
        `(dataset, report)`: a `datasets.Dataset` with ``input_ids`` (and ``pattern_input_ids`` for the dual
        model), ``labels`` and ``example_index`` (texts of fewer than 2 tokens are left out), and
        ``report = {"texts", "kept", "long", "long_share"}`` (``long``: texts cut to ``max_length``).
    """
    from datasets import Dataset

    if model_type not in ("dual", "single", "baseline"):
        raise ValueError(f"model_type must be 'dual', 'single' or 'baseline', got {model_type!r}")
    sentinel, eos = tokenizer.mask_token_id, tokenizer.eos_token_id
    if sentinel is None or eos is None:
        raise ValueError("span corruption needs a tokenizer with a mask token (the sentinel) and an eos token")
    rng = np.random.default_rng(seed)
    empty_intent = tokenizer("", truncation=True, max_length=2)["input_ids"]
    encoded = tokenizer(list(texts), verbose=False)["input_ids"]  # whole texts: count the long ones, then cut
    rows: dict[str, list[Any]] = {"example_index": [], "input_ids": [], "labels": []}
    if model_type == "dual":
        rows["pattern_input_ids"] = []
    cut = skipped = 0
    for index, ids in enumerate(encoded):
        body = ids[:-1] if ids and ids[-1] == eos else ids
        cut += len(body) + 1 > max_length
        body = body[: max_length - 1]  # room for </s>
        if len(body) < 2:
            skipped += 1
            continue
        mask = random_spans_noise_mask(len(body), noise_density, mean_noise_span_length, rng)
        inputs, labels = corrupt_spans(body, mask, sentinel, eos)
        rows["example_index"].append(index)
        rows["labels"].append(labels)
        if model_type == "dual":
            rows["input_ids"].append(list(empty_intent))
            rows["pattern_input_ids"].append(inputs)
        else:
            rows["input_ids"].append(inputs)
    logger.info(
        "span corruption: %d of %d texts (%d longer than %d tokens, their start used; %d too short, left out), "
        "noise density %.2f, mean span %.1f",
        len(rows["labels"]), len(texts), cut, max_length, skipped, noise_density, mean_noise_span_length,
    )  # fmt: skip
    report = {"texts": len(texts), "kept": len(rows["labels"]), "long": cut, "long_share": cut / max(len(texts), 1)}
    return Dataset.from_dict(rows), report
