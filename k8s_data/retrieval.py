"""Pattern retrieval: BM25 over the TRAIN split's intents returns the pattern of the most similar example.

At inference there is no target, so the pattern must come from the intent alone. The bank holds only train
examples; at train time an example retrieves with `exclude_id=<its own id>`, which excludes the example itself
AND every example from the same source file (they share structure and would leak the answer).

BM25 (Robertson & Zaragoza, 2009) with `k1 = 1.5`, `b = 0.75`, implemented with numpy postings: no new dependency.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
STOPWORDS: frozenset[str] = frozenset(
    "a an the and or of to in on for with by from as at is are be that this it its into i me we need create "
    "write give set up define deploy generate yaml kubernetes manifest named called".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens, camelCase split (`StatefulSet` → `stateful`, `set`, `statefulset`), no stopwords."""
    tokens: list[str] = []
    for word in re.findall(r"[A-Za-z0-9][A-Za-z0-9.\-]*", text):
        lowered = word.lower()
        parts = _CAMEL.sub(" ", word).lower().split()
        tokens.extend(t for t in _TOKEN.findall(lowered) if t not in STOPWORDS)
        if len(parts) > 1:
            tokens.extend(p for p in parts if p not in STOPWORDS)
    return tokens


@dataclass(frozen=True)
class BankEntry:
    """One train example in the bank."""

    id: str
    group: str  # source file key: entries of the same file are excluded together
    intent: str
    pattern: str
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Retrieved:
    """A retrieval result: the entry and its BM25 score (None entry: nothing matched)."""

    entry: BankEntry | None
    score: float

    @property
    def pattern(self) -> str:
        return self.entry.pattern if self.entry is not None else ""


class PatternBank:
    """BM25 index over train intents mapping to their patterns.

    Args:
        entries: The bank entries (train examples only).
        k1: BM25 term-frequency saturation.
        b: BM25 length normalisation.
    """

    def __init__(self, entries: Iterable[BankEntry], k1: float = 1.5, b: float = 0.75) -> None:
        self.entries: list[BankEntry] = list(entries)
        self.k1, self.b = k1, b
        self._id_to_group = {e.id: e.group for e in self.entries}
        self._groups = np.array([e.group for e in self.entries], dtype=object)
        docs = [Counter(tokenize(e.intent)) for e in self.entries]
        lengths = np.array([sum(d.values()) for d in docs], dtype=np.float64)
        avg = float(lengths.mean()) if len(lengths) else 0.0
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for index, counts in enumerate(docs):
            for term, tf in counts.items():
                rows, tfs = postings.setdefault(term, ([], []))
                rows.append(index)
                tfs.append(tf)
        n = len(self.entries)
        self._index: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, (rows, tfs) in postings.items():
            rows_array, tf_array = np.array(rows), np.array(tfs, dtype=np.float64)
            idf = math.log(1.0 + (n - len(rows) + 0.5) / (len(rows) + 0.5))
            norm = tf_array + k1 * (1.0 - b + b * lengths[rows_array] / max(avg, 1e-9))
            self._index[term] = (rows_array, idf * tf_array * (k1 + 1.0) / norm)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, object]], **kwargs: float) -> PatternBank:
        """Build from dataset rows (`id`, `intent`, `k8s_pattern` or `pattern`, optional `source_file`, `kinds`)."""
        entries = []
        for row in records:
            pattern = row.get("k8s_pattern", row.get("pattern", ""))
            group = row.get("source_file") or row.get("group") or row["id"]
            entries.append(BankEntry(str(row["id"]), str(group), str(row["intent"]), str(pattern),
                                     tuple(row.get("kinds") or ())))
        return cls(entries, **kwargs)

    def __len__(self) -> int:
        return len(self.entries)

    def scores(self, intent: str) -> np.ndarray:
        """BM25 score of every entry for `intent`, shape `(len(self),)`."""
        scores = np.zeros(len(self.entries), dtype=np.float64)
        for term in tokenize(intent):
            posting = self._index.get(term)
            if posting is not None:
                scores[posting[0]] += posting[1]
        return scores

    def retrieve_entry(self, intent: str, exclude_id: str | None = None) -> Retrieved:
        """The best entry for `intent`; with `exclude_id`, that example and its whole source file are skipped.

        Ties go to the earlier entry, so results are deterministic. Returns an empty result when no term matches.
        """
        scores = self.scores(intent)
        if exclude_id is not None:
            group = self._id_to_group.get(exclude_id, exclude_id)
            scores[self._groups == group] = -np.inf
            scores[[i for i, e in enumerate(self.entries) if e.id == exclude_id]] = -np.inf
        if not len(scores):
            return Retrieved(None, 0.0)
        best = int(np.argmax(scores))
        if not scores[best] > 0:
            return Retrieved(None, 0.0)
        return Retrieved(self.entries[best], float(scores[best]))

    def retrieve(self, intent: str, exclude_id: str | None = None) -> str:
        """The pattern of the most similar train intent (`""` when nothing matches)."""
        return self.retrieve_entry(intent, exclude_id).pattern

    def save(self, path: str | Path) -> None:
        """Write the bank as JSON (entries and BM25 parameters)."""
        payload = {"k1": self.k1, "b": self.b, "entries": [asdict(e) for e in self.entries]}
        Path(path).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> PatternBank:
        """Read a bank written by `save`."""
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = [BankEntry(**{**e, "kinds": tuple(e.get("kinds", ()))}) for e in payload["entries"]]
        return cls(entries, k1=payload["k1"], b=payload["b"])


@lru_cache(maxsize=1)
def default_pattern_bank() -> PatternBank:
    """The bank of the bundled corpus' train split with default options (built once per process, ~seconds)."""
    from .build import build_examples  # local import: build imports this module

    # oracle mode: bank entries carry their own (target) pattern, which is what retrieval hands out
    rows = [row for row in build_examples(pattern_mode="oracle") if row["split"] == "train"]
    logger.info("built the default pattern bank from %d train examples", len(rows))
    return PatternBank.from_records(rows)
