"""Deterministic train / validation / test splits grouped by source file.

All examples of one source file share a split. Files are additionally linked when they contain a document that is
identical apart from `metadata` (the corpus holds no exact duplicates, but copies of one manifest under another
name exist, e.g. an example repeated in two tutorials): linked files form one group, so such near-duplicates never
straddle train and test. Groups are ordered by a seeded hash and filled to the requested fractions by example
count.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from .examples import Example

SPLIT_NAMES: tuple[str, str, str] = ("train", "validation", "test")
# Documents whose body (without metadata) is shorter than this are too generic to mark a duplicate (an empty
# Namespace or ServiceAccount would otherwise link half the corpus into one group).
MIN_DUPLICATE_BODY_CHARS = 200


@dataclass(frozen=True)
class SplitConfig:
    """Split fractions and seed."""

    train_fraction: float = field(default=0.8, metadata={"help": "Fraction of examples in train."})
    validation_fraction: float = field(default=0.1, metadata={"help": "Fraction of examples in validation."})
    split_seed: int = field(default=0, metadata={"help": "Seed of the group order (changes which files go where)."})

    def __post_init__(self) -> None:
        if not (0 < self.train_fraction < 1 and 0 <= self.validation_fraction < 1):
            raise ValueError("train_fraction must be in (0, 1) and validation_fraction in [0, 1)")
        if self.train_fraction + self.validation_fraction > 1:
            raise ValueError("train_fraction + validation_fraction must be at most 1 (the rest is test)")


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def duplicate_body_key(doc: dict) -> str | None:
    """A key equal for documents identical apart from `metadata`; None when the body is too generic."""
    body = {k: v for k, v in doc.items() if k != "metadata"}
    text = json.dumps(body, sort_keys=True, default=str)
    return text if len(text) >= MIN_DUPLICATE_BODY_CHARS else None


def split_groups(examples: Sequence[Example]) -> dict[str, str]:
    """Map each example's `file_key` to its group key (the smallest file key of its linked component)."""
    union = _UnionFind()
    first_file_by_body: dict[str, str] = {}
    for example in examples:
        union.find(example.file_key)
        for doc in example.docs:
            body = duplicate_body_key(doc)
            if body is None:
                continue
            other = first_file_by_body.setdefault(body, example.file_key)
            union.union(other, example.file_key)
    return {example.file_key: union.find(example.file_key) for example in examples}


def assign_splits(examples: Sequence[Example], config: SplitConfig = SplitConfig()) -> dict[str, str]:
    """Map each example id to `train`, `validation` or `test`.

    Every example of a group gets the same split; the result depends only on the examples and the config.
    """
    group_of_file = split_groups(examples)
    sizes: dict[str, int] = {}
    for example in examples:
        group = group_of_file[example.file_key]
        sizes[group] = sizes.get(group, 0) + 1

    def order(group: str) -> str:
        return hashlib.sha256(f"{config.split_seed}:{group}".encode()).hexdigest()

    total = len(examples)
    bounds = (config.train_fraction * total, (config.train_fraction + config.validation_fraction) * total)
    split_of_group: dict[str, str] = {}
    seen = 0
    for group in sorted(sizes, key=order):
        # a group goes where its first example would fall, so large groups never overshoot a small split much
        split_of_group[group] = "train" if seen < bounds[0] else "validation" if seen < bounds[1] else "test"
        seen += sizes[group]
    return {example.id: split_of_group[group_of_file[example.file_key]] for example in examples}
