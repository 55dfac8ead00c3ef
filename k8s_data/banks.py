"""Pattern banks as used by training and inference: the default bank, the bank of a build, and the files that
travel with a trained model.

A model folder holds `retrieval_bank.json.gz` (the train-split `PatternBank` it was trained with, gzip JSON) and
`retrieval_config.json` (`RetrievalConfig`). `load_retrieval(folder)` reads them back; a folder without them (a
model trained before they existed, or a foreign checkpoint) gets the default bank with the legacy settings
(`skeleton`, plain BM25: what such models were trained on) and a warning.

This module sits above `build` and `retrieval` (both imported here, neither imports it), so the package has no
import cycle.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from .build import BuildOptions, build_examples
from .retrieval import PatternBank
from .retrieval_config import RETRIEVAL_CONFIG_NAME, RetrievalConfig

logger = logging.getLogger(__name__)

BANK_FILE_NAME = "retrieval_bank.json.gz"
# What a model folder without retrieval files was trained with (before retrieval settings were saved).
LEGACY_RETRIEVAL = RetrievalConfig(pattern_format="skeleton", kind_aware=False, train_sample_top=1)


def bank_from_rows(rows: list[dict[str, Any]]) -> PatternBank:
    """The bank of built rows: their `train` split, with skeleton patterns of each target."""
    return PatternBank.from_records(
        {**row, "k8s_pattern": ""} for row in rows if row["split"] == "train"
    )


@lru_cache(maxsize=1)
def default_pattern_bank() -> PatternBank:
    """The bank of the bundled corpus' train split with default options (built once per process, ~seconds)."""
    rows = build_examples(options=BuildOptions(pattern_mode="none"))
    bank = bank_from_rows(rows)
    logger.info("built the default pattern bank from %d train examples", len(bank))
    return bank


def pattern_bank_for(
    data_files: str | list[str] | dict[str, str | list[str]] | None = None, seed: int = 0, **kwargs: Any
) -> PatternBank:
    """The bank `load_k8s_intents` builds for the same arguments (its train split), to save beside a model.

    Args:
        data_files, seed, **kwargs: As for `load_k8s_intents` (`corpus_file`, `description_mode`, `filter`,
            `split`); pattern and retrieval arguments are accepted and ignored (they do not change the bank).
    """
    from .builder import RETRIEVAL_ARGUMENTS, make_builder

    ignored = (*RETRIEVAL_ARGUMENTS, "cache_dir", "pattern_mode")
    kwargs = {k: v for k, v in kwargs.items() if k not in ignored}
    if data_files is None and seed == 0 and not any(v is not None for v in kwargs.values()):
        return default_pattern_bank()
    return bank_from_rows(make_builder("none", data_files, seed, **kwargs)._rows())


def retrieve_manifest(
    intent: str, bank: PatternBank | None = None, config: RetrievalConfig | None = None
) -> str:
    """The retrieved train manifest for `intent` (retrieval as a system; `""` when nothing matches).

    Ranked as `config` says (default `RetrievalConfig()`: kind-aware, no composition, not adapted), the format
    fields are ignored: the answer is always one whole manifest, adapted to `intent` when `config.adapt_exemplar`.
    `bank` defaults to `default_pattern_bank()`.

    Example: `retrieve_manifest("a CronJob that backs up a database every night")` → a CronJob YAML.
    """
    bank = bank if bank is not None else default_pattern_bank()
    config = config or RetrievalConfig()
    return bank.manifest_for(
        intent, kind_aware=config.kind_aware, compose=config.compose, adapt=config.adapt_exemplar
    )


def save_retrieval(folder: str | Path, bank: PatternBank, config: RetrievalConfig) -> None:
    """Write `retrieval_bank.json.gz` and `retrieval_config.json` into `folder` (beside a saved model)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    bank.save(folder / BANK_FILE_NAME)
    config.save(folder)


def has_retrieval(folder: str | Path) -> bool:
    """True when `folder` holds both retrieval files."""
    folder = Path(folder)
    return (folder / BANK_FILE_NAME).is_file() and (folder / RETRIEVAL_CONFIG_NAME).is_file()


def load_retrieval(folder: str | Path) -> tuple[PatternBank, RetrievalConfig]:
    """The bank and retrieval settings saved in a model folder.

    Falls back to `default_pattern_bank()` and `LEGACY_RETRIEVAL` (skeleton, plain BM25) with a warning when the
    folder (or a Hub model id, which is not a folder) has no retrieval files. A config without a bank uses the
    default bank, with a warning.

    Raises:
        ValueError: when a retrieval file exists but cannot be read.
    """
    folder = Path(folder)
    bank_path, config_path = folder / BANK_FILE_NAME, folder / RETRIEVAL_CONFIG_NAME
    if not config_path.is_file():
        logger.warning(
            "%s has no %s: using the default pattern bank with skeleton patterns (plain BM25), the settings of "
            "models trained before retrieval settings were saved", folder, RETRIEVAL_CONFIG_NAME,
        )
        return default_pattern_bank(), LEGACY_RETRIEVAL
    config = RetrievalConfig.load(folder)
    if not bank_path.is_file():
        logger.warning("%s has no %s: using the default pattern bank", folder, BANK_FILE_NAME)
        return default_pattern_bank(), config
    return PatternBank.load(bank_path), config
