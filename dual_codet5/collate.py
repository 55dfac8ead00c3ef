"""Tokenisation, dynamic padding and length-grouped batching for both models.

Input formatting (docs/interfaces.md, "Input formatting"; training and inference must agree):

* dual model: ``input_ids`` = tokenizer(intent), ``pattern_input_ids`` = tokenizer(pattern) (an empty pattern becomes
  just ``</s>``);
* single-encoder models (``"single"``: a DualCodeT5 with ``config.single_encoder``; ``"baseline"``: a plain T5):
  ``input_ids`` = tokenizer(``k8s_data.format_single_encoder_input(intent, pattern)``), at most
  ``max_source_length + max_pattern_length`` tokens;
* targets: ``labels`` = tokenizer(yaml), ``</s>`` appended by the tokenizer's post-processor.

Padding is dynamic (to the longest sequence of each batch), and `LengthGroupedSampler` orders examples so that a batch
holds examples of similar length, which is what keeps the share of padding tokens low on real data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Sampler

logger = logging.getLogger(__name__)

__all__ = [
    "LengthGroupedSampler",
    "Seq2SeqCollator",
    "LONG_TARGET_POLICIES",
    "encode_example",
    "model_type_of_config",
    "tokenize_dataset",
    "example_lengths",
    "apply_long_target_policy",
]

#: what training does with a target longer than ``max_target_length``: cut it (the model then learns to stop
#: mid-manifest) or leave the example out (the model only sees whole manifests)
LONG_TARGET_POLICIES = ("truncate", "drop")

#: feature name -> padding value used by `Seq2SeqCollator` (an ``*_attention_mask`` is built for each ``*input_ids``)
PAD_KEYS = ("input_ids", "pattern_input_ids", "labels")
#: ``model_type`` values whose input is one sequence, ``format_single_encoder_input(intent, pattern)``
SINGLE_INPUT_MODEL_TYPES = ("single", "baseline")
DUAL_CONFIG_MODEL_TYPE = "dual_codet5"


def model_type_of_config(config: Any) -> str:
    """The training scripts' model type of a saved model, read from its config alone.

    Args:
        config: a `PretrainedConfig` or the dict of a ``config.json``.

    Returns:
        ``"dual"`` (DualCodeT5, intent and pattern as two inputs), ``"single"`` (DualCodeT5 with
        ``single_encoder: true``, one input) or ``"baseline"`` (any other seq2seq model, e.g. a plain T5, one input).
    """
    get = config.get if isinstance(config, dict) else lambda key, default=None: getattr(config, key, default)
    if get("model_type") != DUAL_CONFIG_MODEL_TYPE:
        return "baseline"
    return "single" if get("single_encoder", False) else "dual"


def encode_example(
    intent: str,
    pattern: str,
    target: str | None,
    tokenizer: Any,
    *,
    model_type: str,
    max_source_length: int,
    max_pattern_length: int,
    max_target_length: int,
) -> dict[str, list[int]]:
    """Token ids of one example for ``model_type`` ``"dual"``, ``"single"`` or ``"baseline"``.

    Returns:
        `dict` with ``input_ids`` (and ``pattern_input_ids`` for the dual model, ``labels`` when ``target`` is given),
        each a list of token ids ending with ``</s>``.
    """
    if model_type == "dual":
        out = {
            "input_ids": tokenizer(intent, truncation=True, max_length=max_source_length)["input_ids"],
            "pattern_input_ids": tokenizer(pattern or "", truncation=True, max_length=max_pattern_length)[
                "input_ids"
            ],
        }
    elif model_type in SINGLE_INPUT_MODEL_TYPES:
        from k8s_data import format_single_encoder_input

        source = format_single_encoder_input(intent, pattern or "")
        # a single encoder's budget is the dual model's two budgets together (same tokens, one encoder)
        budget = max_source_length + max_pattern_length
        out = {"input_ids": tokenizer(source, truncation=True, max_length=budget)["input_ids"]}
    else:
        raise ValueError(f"model_type must be 'dual', 'single' or 'baseline', got {model_type!r}")
    if target is not None:
        out["labels"] = tokenizer(target, truncation=True, max_length=max_target_length)["input_ids"]
    return out


def tokenize_dataset(
    dataset: Any,
    tokenizer: Any,
    *,
    model_type: str,
    max_source_length: int,
    max_pattern_length: int,
    max_target_length: int,
    with_targets: bool = True,
    keep_columns: Sequence[str] = (),
) -> Any:
    """Map a `datasets.Dataset` with ``intent``, ``k8s_pattern`` and ``yaml`` columns to token ids.

    An ``example_index`` column (the row number) is added so that a batch can find its reference YAML again (RL).
    """

    def _encode(batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        rows: dict[str, list[Any]] = {"example_index": list(indices)}
        for i, intent in enumerate(batch["intent"]):
            enc = encode_example(
                intent,
                batch["k8s_pattern"][i],
                batch["yaml"][i] if with_targets else None,
                tokenizer,
                model_type=model_type,
                max_source_length=max_source_length,
                max_pattern_length=max_pattern_length,
                max_target_length=max_target_length,
            )
            for key, value in enc.items():
                rows.setdefault(key, []).append(value)
        return rows

    remove = [c for c in dataset.column_names if c not in keep_columns]
    return dataset.map(_encode, batched=True, with_indices=True, remove_columns=remove, desc="tokenizing")


def apply_long_target_policy(
    dataset: Any, texts: Sequence[str], tokenizer: Any, max_target_length: int, policy: str, name: str = "train"
) -> tuple[Any, dict[str, float]]:
    """Count the targets longer than ``max_target_length`` tokens (``</s>`` included) and apply ``policy``.

    ``dataset`` is the tokenized dataset (labels already cut at ``max_target_length``), ``texts`` its target YAML
    in the same order. ``"truncate"`` keeps the cut examples, ``"drop"`` leaves them out; either way the share is
    logged, never cut silently.

    Returns:
        `(dataset, report)` with ``report = {"examples", "long", "long_share", "kept"}``.
    """
    if policy not in LONG_TARGET_POLICIES:
        raise ValueError(f"long target policy must be one of {LONG_TARGET_POLICIES}, got {policy!r}")
    if len(texts) != len(dataset):
        raise ValueError(f"{len(texts)} target texts for {len(dataset)} examples")
    lengths = [len(ids) for ids in tokenizer(list(texts), verbose=False)["input_ids"]]
    long = [i for i, n in enumerate(lengths) if n > max_target_length]
    if policy == "drop" and long:
        long_set = set(long)
        dataset = dataset.select([i for i in range(len(dataset)) if i not in long_set])
    report = {
        "examples": len(lengths),
        "long": len(long),
        "long_share": len(long) / max(len(lengths), 1),
        "kept": len(dataset),
    }
    action = "dropped" if policy == "drop" else "truncated"
    logger.info(
        "%s: %d of %d targets (%.1f %%) are longer than max_target_length=%d tokens: %s (--long_targets %s)",
        name, len(long), len(lengths), 100 * report["long_share"], max_target_length, action, policy,
    )  # fmt: skip
    return dataset, report


def example_lengths(dataset: Any) -> list[int]:
    """Total tokens (encoder inputs + target) of each tokenized example: the key of length grouping."""
    keys = [k for k in PAD_KEYS if k in dataset.column_names]
    columns = [dataset[k] for k in keys]
    return [sum(len(col[i]) for col in columns) for i in range(len(dataset))]


@dataclass
class Seq2SeqCollator:
    """Pads a list of tokenized examples to the longest of the batch.

    ``input_ids`` / ``pattern_input_ids`` are padded with ``pad_token_id`` and get ``attention_mask`` /
    ``pattern_attention_mask``; ``labels`` are padded with ``label_pad_token_id`` (-100, ignored by the loss); any
    other integer feature (``example_index``) is stacked as a tensor.

    Returns:
        `dict[str, torch.LongTensor]`, e.g. ``input_ids`` of shape `(batch_size, max_len_in_batch)`.
    """

    pad_token_id: int
    label_pad_token_id: int = -100
    pad_to_multiple_of: int | None = None

    def _pad(self, seqs: list[list[int]], value: int) -> torch.Tensor:
        longest = max(len(s) for s in seqs)
        if self.pad_to_multiple_of:
            m = self.pad_to_multiple_of
            longest = (longest + m - 1) // m * m
        out = torch.full((len(seqs), longest), value, dtype=torch.long)
        for i, s in enumerate(seqs):
            out[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
        return out

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch: dict[str, torch.Tensor] = {}
        for key in features[0]:
            values = [f[key] for f in features]
            if key in ("input_ids", "pattern_input_ids"):
                ids = self._pad(values, self.pad_token_id)
                mask = self._pad([[1] * len(v) for v in values], 0)
                batch[key] = ids
                batch["attention_mask" if key == "input_ids" else "pattern_attention_mask"] = mask
            elif key == "labels":
                batch[key] = self._pad(values, self.label_pad_token_id)
            elif isinstance(values[0], int):
                batch[key] = torch.as_tensor(values, dtype=torch.long)
        return batch


class LengthGroupedSampler(Sampler[int]):
    """Length-grouped random order that changes with the epoch, for dynamic padding.

    Indices are shuffled with ``seed + epoch``, cut into mega-batches of ``50 * batch_size`` and sorted by length
    inside each (``transformers.trainer_pt_utils.get_length_grouped_indices``). Call `set_epoch` (Accelerate's
    ``DataLoader.set_epoch`` does) so each epoch differs and a resumed run sees the same order as the original one.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int = 0, group_by_length: bool = True):
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.group_by_length = group_by_length
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        from transformers.trainer_pt_utils import get_length_grouped_indices

        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        if not self.group_by_length:
            return iter(torch.randperm(len(self.lengths), generator=generator).tolist())
        return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=generator))
