"""The build pipeline behind the dataset: corpus → examples → splits → intents → patterns → rows.

Pure python and fast (seconds for the whole corpus); the `datasets` builder (`builder.py`) only writes its rows.
Rows have the public features (`id`, `intent`, `intent_source`, `k8s_pattern`, `yaml`, `kinds`, `source`,
`license`) plus `split` and `source_file` used while building.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from .corpus import CORPUS_FILE, CorpusError, load_corpus
from .examples import ExampleFilter, group_examples
from .intents import DescriptionMode, build_intent
from .patterns import extract_pattern
from .retrieval import PatternBank
from .retrieval_config import RetrievalConfig
from .splits import SplitConfig, assign_splits
from .yaml_io import load_mappings

logger = logging.getLogger(__name__)

PatternMode = Literal["retrieved", "oracle", "none"]
PATTERN_MODES: tuple[str, ...] = ("retrieved", "oracle", "none")


@dataclass(frozen=True)
class BuildOptions:
    """Everything that decides the content of the dataset (and therefore its cache key)."""

    pattern_mode: PatternMode = field(
        default="retrieved",
        metadata={"help": "retrieved: BM25 over train intents (the honest setting); oracle: pattern of the target "
                          "itself (an UPPER BOUND only, it leaks the answer); none: empty pattern."},
    )
    seed: int = field(default=0, metadata={"help": "Seed of the intent phrasing."})
    description_mode: DescriptionMode = field(
        default="combine", metadata={"help": "combine | only | never: how real descriptions are used (intents.py)."}
    )
    filter: ExampleFilter = field(default_factory=ExampleFilter, metadata={"help": "Which examples are kept."})
    split: SplitConfig = field(default_factory=SplitConfig, metadata={"help": "Split fractions and seed."})
    retrieval: RetrievalConfig = field(
        default_factory=RetrievalConfig, metadata={"help": "Pattern format and retrieval settings (retrieved mode)."}
    )

    def __post_init__(self) -> None:
        if self.pattern_mode not in PATTERN_MODES:
            raise ValueError(f"pattern_mode must be one of {PATTERN_MODES}, got {self.pattern_mode!r}")
        if self.description_mode not in ("combine", "only", "never"):
            raise ValueError(f"description_mode must be combine, only or never, got {self.description_mode!r}")

    def fingerprint(self) -> str:
        """A stable string of all options, for cache keys."""
        from dataclasses import asdict

        from .adapt import ADAPT_VERSION

        options = asdict(self)
        if self.retrieval.adapt_exemplar:  # adapted patterns change with the rules: a new version, a new cache
            options["adapt_version"] = ADAPT_VERSION
        return json.dumps(options, sort_keys=True)


def attach_patterns(
    rows: list[dict[str, Any]], pattern_mode: str, retrieval: RetrievalConfig | None = None, seed: int = 0
) -> PatternBank | None:
    """Fill `k8s_pattern` of every row in place; returns the bank used (retrieved mode) or None.

    The bank is built from the `train` rows only. Train rows get a training pattern (`PatternBank.pattern_for`
    with `rng`): never their own example, source file or a manifest containing their target, sampled among the
    best `retrieval.train_sample_top` and masked as configured, seeded per example. Validation/test rows (not in the
    bank) get the inference pattern, exactly what `generate` computes from the intent alone.

    Args:
        rows: Rows with `id`, `intent`, `yaml`, `split`, `source_file`, `kinds`.
        pattern_mode: `retrieved`, `oracle` (the target's own skeleton or, for exemplars, the target itself: an
            UPPER BOUND) or `none`.
        retrieval: Format and retrieval settings (default `RetrievalConfig()`).
        seed: Seed of the training-pattern sampling.
    """
    retrieval = retrieval or RetrievalConfig()
    if pattern_mode == "none":
        for row in rows:
            row["k8s_pattern"] = ""
        return None
    if pattern_mode == "oracle":
        skeleton = retrieval.pattern_format == "skeleton"
        for row in rows:
            row["k8s_pattern"] = extract_pattern(row["yaml"]) if skeleton else row["yaml"]
        return None
    bank = PatternBank.from_records({**row, "k8s_pattern": ""} for row in rows if row["split"] == "train")
    for row in rows:
        if row["split"] == "train":
            rng = random.Random(f"{seed}:{row['id']}")
            row["k8s_pattern"] = bank.pattern_for(row["intent"], retrieval, exclude_id=row["id"], target=row["yaml"],
                                                  rng=rng)
        else:
            row["k8s_pattern"] = bank.pattern_for(row["intent"], retrieval)
    return bank


@lru_cache(maxsize=4)
def _corpus_rows(corpus_file: str, size: int, mtime_ns: int, options: BuildOptions) -> tuple[dict[str, Any], ...]:
    """Rows without patterns, cached per process by file identity and options (tests build the corpus once)."""
    examples = group_examples(load_corpus(corpus_file))
    split_of = assign_splits(examples, options.split)  # before filtering: filters never move a file between splits
    kept, _ = options.filter.apply(examples)
    rows: list[dict[str, Any]] = []
    for example in kept:
        intent, intent_source = build_intent(
            example.records, example.docs, example.yaml, seed=options.seed, example_id=example.id,
            description_mode=options.description_mode,
        )
        rows.append(
            {
                "id": example.id,
                "intent": intent,
                "intent_source": intent_source,
                "k8s_pattern": "",
                "yaml": example.yaml,
                "kinds": example.kinds,
                "source": example.source,
                "license": example.license(intent_source if intent_source != "synthesized" else None),
                "split": split_of[example.id],
                "source_file": example.file_key,
            }
        )
    return tuple(rows)


def build_examples(
    corpus_file: str | Path | None = None, options: BuildOptions | None = None, **overrides: Any
) -> list[dict[str, Any]]:
    """Rows of the corpus dataset, all splits, in a deterministic order.

    Args:
        corpus_file: A `manifests.jsonl` (default: the bundled corpus).
        options: Build options; `overrides` replace individual top-level fields (e.g. `pattern_mode="none"`).
    """
    options = options or BuildOptions()
    if overrides:
        options = replace(options, **overrides)
    path = Path(corpus_file) if corpus_file is not None else CORPUS_FILE
    stat = path.stat() if path.exists() else None
    if stat is None:
        raise CorpusError(f"{path}: corpus file not found")
    base = replace(options, pattern_mode="none", retrieval=RetrievalConfig())
    rows = [dict(row, kinds=list(row["kinds"])) for row in _corpus_rows(str(path.resolve()), stat.st_size,
                                                                          stat.st_mtime_ns, base)]
    attach_patterns(rows, options.pattern_mode, options.retrieval, options.seed)
    return rows


def read_seed_file(path: str | Path) -> list[dict[str, str]]:
    """Read the seed's format: a JSON list `[{"intent": ..., "yaml": ...}]` or JSONL with those two fields.

    Raises:
        CorpusError: naming the file and the item (JSON list) or line (JSONL) that is malformed.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    items: list[tuple[str, Any]] = []
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise CorpusError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
        items = [(f"{path}: item {i}", item) for i, item in enumerate(data)]
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    items.append((f"{path}:{number}", json.loads(line)))
                except json.JSONDecodeError as err:
                    raise CorpusError(f"{path}:{number}: not valid JSON ({err.msg} at column {err.colno})") from None
    out = []
    for where, item in items:
        if not isinstance(item, dict) or not isinstance(item.get("intent"), str) or not isinstance(
            item.get("yaml"), str
        ):
            raise CorpusError(f"{where}: expected an object with string fields 'intent' and 'yaml'")
        out.append({"intent": item["intent"], "yaml": item["yaml"]})
    return out


def build_seed_rows(
    data_files: dict[str, Iterable[str | Path]], options: BuildOptions | None = None
) -> list[dict[str, Any]]:
    """Rows from seed-format files. `data_files` maps split names to files; a missing `validation` split is
    carved from train (by a hash of the example, `options.split` fractions), and a lone `train` gives all three."""
    options = options or BuildOptions()
    rows: list[dict[str, Any]] = []
    for split, files in data_files.items():
        for file in files:
            for item in read_seed_file(file):
                digest = hashlib.sha256(f"{item['intent']}\0{item['yaml']}".encode()).hexdigest()[:16]
                docs = load_mappings(item["yaml"])
                rows.append(
                    {
                        "id": digest, "intent": item["intent"], "intent_source": "seed", "k8s_pattern": "",
                        "yaml": item["yaml"], "kinds": list(dict.fromkeys(str(d.get("kind")) for d in docs)),
                        "source": Path(str(file)).name, "license": "unknown", "split": split, "source_file": digest,
                    }
                )
    if "validation" not in data_files:
        only_train = set(data_files) == {"train"}
        split_config = options.split
        for row in rows:
            if row["split"] != "train":
                continue
            unit = int(hashlib.sha256(f"{split_config.split_seed}:{row['id']}".encode()).hexdigest()[:8], 16) / 2**32
            if not only_train:  # train + test given: only a validation slice is carved from train
                row["split"] = "validation" if unit < split_config.validation_fraction else "train"
            elif unit >= split_config.train_fraction + split_config.validation_fraction:
                row["split"] = "test"
            elif unit >= split_config.train_fraction:
                row["split"] = "validation"
    attach_patterns(rows, options.pattern_mode, options.retrieval, options.seed)
    return rows
