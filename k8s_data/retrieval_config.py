"""How the pattern input is made from retrieval: `RetrievalConfig`, saved beside every trained model.

A model must be served patterns made the way it was trained on them (format, number of exemplars, kind-aware
ranking), so the config travels with the model folder as `retrieval_config.json` (see `k8s_data.banks`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

logger = logging.getLogger(__name__)

PATTERN_FORMATS: tuple[str, ...] = ("skeleton", "exemplar")
RETRIEVAL_CONFIG_NAME = "retrieval_config.json"

PatternFormat = Literal["skeleton", "exemplar"]


@dataclass(frozen=True)
class RetrievalConfig:
    """How a pattern is retrieved and rendered for one intent.

    Training-only fields (`train_sample_top`, `exemplar_mask_prob`) apply when the bank is asked for a training
    pattern (`PatternBank.pattern_for(..., rng=...)`); at inference the best candidate is always used unmasked.
    """

    pattern_format: PatternFormat = field(
        default="skeleton",
        metadata={"help": "skeleton: kinds, apiVersions and key structure of the retrieved train manifest with "
                          "typed placeholders; exemplar: the retrieved train manifest(s) in full (retrieve and "
                          "edit)."},
    )
    exemplar_k: int = field(
        default=1,
        metadata={"help": "How many retrieved train manifests an exemplar pattern holds (joined by "
                          "k8s_data.EXEMPLAR_SEPARATOR). Skeleton patterns always use one."},
    )
    kind_aware: bool = field(
        default=True,
        metadata={"help": "Rank train files by BM25 plus a bonus for each kind the intent asks for "
                          "(k8s_data.kinds) that they hold and a penalty for each kind it did not ask for."},
    )
    compose: bool = field(
        default=False,
        metadata={"help": "Kind-aware only: when the best file lacks a requested kind, append that kind's documents "
                          "from the best file holding it. Off by default: on validation it lowered kind-set "
                          "accuracy, because kinds read from prose are often references, not requests "
                          "(docs/retrieval.md)."},
    )
    adapt_exemplar: bool = field(
        default=False,
        metadata={"help": "Exemplar patterns and the retrieved answer: edit each retrieved manifest by the "
                          "differences between its train intent and the request (k8s_data.adapt: literals swapped "
                          "slot by slot, the requested namespace added), so what the model copies already carries "
                          "the request's names."},
    )
    train_sample_top: int = field(
        default=3,
        metadata={"help": "Training only: pick the pattern uniformly among the best N leak-free candidates, so "
                          "the model sees retrieval as imperfect as at test time (1: always the best)."},
    )
    exemplar_mask_prob: float = field(
        default=0.0,
        metadata={"help": "Training only: probability that each word of an exemplar is replaced by <mask> "
                          "(REDCODER masks 0.15 of the retrieved tokens), so the model also reads the intent."},
    )

    def __post_init__(self) -> None:
        if self.pattern_format not in PATTERN_FORMATS:
            raise ValueError(f"pattern_format must be one of {PATTERN_FORMATS}, got {self.pattern_format!r}")
        if not isinstance(self.exemplar_k, int) or self.exemplar_k < 1:
            raise ValueError(f"exemplar_k must be an integer >= 1, got {self.exemplar_k!r}")
        if not isinstance(self.train_sample_top, int) or self.train_sample_top < 1:
            raise ValueError(f"train_sample_top must be an integer >= 1, got {self.train_sample_top!r}")
        if not 0.0 <= self.exemplar_mask_prob < 1.0:
            raise ValueError(f"exemplar_mask_prob must be in [0, 1), got {self.exemplar_mask_prob!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RetrievalConfig:
        """Build from a dict; unknown keys are ignored with a warning (a newer version may add fields)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            logger.warning("ignoring unknown retrieval config fields %s", unknown)
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, folder: str | Path) -> None:
        """Write `retrieval_config.json` into `folder` (created if needed)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / RETRIEVAL_CONFIG_NAME).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: str | Path) -> RetrievalConfig:
        """Read `retrieval_config.json` from `folder`.

        Raises:
            FileNotFoundError: when the folder has no retrieval config.
            ValueError: when the file is not a JSON object or holds an invalid value.
        """
        path = Path(folder) / RETRIEVAL_CONFIG_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err.msg})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object")
        return cls.from_dict(data)
