"""Pattern retrieval: BM25 over the TRAIN split's intents returns the pattern of the most similar example.

At inference there is no target, so the pattern must come from the intent alone. The bank holds only train
examples; at train time an example retrieves with `exclude_id=<its own id>`, which excludes the example itself
AND every example from the same source file (they share structure and would leak the answer).

BM25 (Robertson & Zaragoza, 2009) with `k1 = 1.5`, `b = 0.75`, implemented with numpy postings: no new dependency.

`PatternBank.pattern_for(intent, config)` is the one entry point that turns an intent into the model's pattern
input, in either format (`RetrievalConfig.pattern_format`):

- `skeleton`: the key structure of the best train manifest (`patterns.extract_pattern`);
- `exemplar`: the best `exemplar_k` train manifests in full, joined by `EXEMPLAR_SEPARATOR` (retrieve and edit, as
  in REDCODER, Parvez et al. 2021, and CodeT5+, Wang et al. 2023, Table 6); with `config.adapt_exemplar` each is
  first edited by the differences between its train intent and the request (`k8s_data.adapt`).

Kind-aware ranking (`config.kind_aware`): the kinds the intent asks for (`kinds.detect_kinds`) decide first, BM25
second; when no train file covers them all, one exemplar is composed from the best file plus the documents of
each missing kind from the best file holding it. Training patterns (`rng` given) are leak-free: never the example
itself, its source file, or a train manifest that contains every document of the target (after normalisation);
they are sampled among the best `train_sample_top` candidates and optionally masked.

A bank is stored as JSON (gzip when the name ends in `.gz`): never pickle.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from .adapt import adapt_manifest
from .formatting import EXEMPLAR_SEPARATOR
from .kinds import detect_kinds
from .patterns import extract_pattern
from .retrieval_config import RetrievalConfig
from .yaml_io import load_mappings

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
    pattern: str  # the skeleton of `yaml` ("" when it is to be made from `yaml` on use)
    kinds: tuple[str, ...] = ()
    yaml: str = ""  # the train manifest itself (what exemplar patterns and retrieve_manifest hand out)
    source: str = ""  # repository, for attribution


@dataclass(frozen=True)
class Retrieved:
    """A retrieval result: the entry and its BM25 score (None entry: nothing matched)."""

    entry: BankEntry | None
    score: float

    @property
    def pattern(self) -> str:
        if self.entry is None:
            return ""
        return self.entry.pattern or (extract_pattern(self.entry.yaml) if self.entry.yaml else "")


# Kind-aware ranking: BM25 + KIND_WEIGHT x (requested kinds the file holds - EXTRA_KIND_WEIGHT x kinds it holds
# that were not requested). Chosen on validation by `python -m k8s_data.eval_retrieval --sweep` (docs/retrieval.md).
KIND_WEIGHT = 8.0
EXTRA_KIND_WEIGHT = 1.0


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
        self._ids = np.array([e.id for e in self.entries], dtype=object)
        self._by_kind: dict[str, list[int]] = {}
        for index, entry in enumerate(self.entries):
            for kind in dict.fromkeys(entry.kinds):
                self._by_kind.setdefault(kind, []).append(index)
        self._kind_count = np.array([len(set(e.kinds)) for e in self.entries], dtype=np.float64)
        self._kind_vocabulary: frozenset[str] | None = None
        self._doc_key_cache: dict[int, frozenset[str]] = {}
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
        """Build from dataset rows (`id`, `intent`, `yaml`, optional `k8s_pattern`/`pattern`, `source_file`,
        `kinds`, `source`). A row without a pattern gets the skeleton of its `yaml` when it is first needed."""
        entries = []
        for row in records:
            yaml_text = str(row.get("yaml") or "")
            pattern = row.get("k8s_pattern") or row.get("pattern") or ""  # "": the skeleton of `yaml`, made on use
            group = row.get("source_file") or row.get("group") or row["id"]
            kinds = tuple(row.get("kinds") or ()) or tuple(dict.fromkeys(
                str(d.get("kind")) for d in load_mappings(yaml_text)))
            entries.append(BankEntry(str(row["id"]), str(group), str(row["intent"]), str(pattern), kinds,
                                     yaml_text, str(row.get("source") or "")))
        return cls(entries, **kwargs)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def kind_vocabulary(self) -> frozenset[str]:
        """Every kind some entry holds (lets `detect_kinds` recognise the bank's custom resources)."""
        if self._kind_vocabulary is None:
            self._kind_vocabulary = frozenset(k for e in self.entries for k in e.kinds)
        return self._kind_vocabulary

    def scores(self, intent: str) -> np.ndarray:
        """BM25 score of every entry for `intent`, shape `(len(self),)`."""
        scores = np.zeros(len(self.entries), dtype=np.float64)
        for term in tokenize(intent):
            posting = self._index.get(term)
            if posting is not None:
                scores[posting[0]] += posting[1]
        return scores

    def _exclude(self, scores: np.ndarray, exclude_id: str | None) -> None:
        """Set the score of `exclude_id` and of every entry of its source file to -inf, in place."""
        if exclude_id is None:
            return
        group = self._id_to_group.get(exclude_id, exclude_id)
        scores[self._groups == group] = -np.inf
        scores[self._ids == exclude_id] = -np.inf

    def retrieve_entry(self, intent: str, exclude_id: str | None = None) -> Retrieved:
        """The best entry for `intent` by BM25 alone; with `exclude_id`, that example and its whole source file
        are skipped.

        Ties go to the earlier entry, so results are deterministic. Returns an empty result when no term matches.
        """
        scores = self.scores(intent)
        self._exclude(scores, exclude_id)
        if not len(scores):
            return Retrieved(None, 0.0)
        best = int(np.argmax(scores))
        if not scores[best] > 0:
            return Retrieved(None, 0.0)
        return Retrieved(self.entries[best], float(scores[best]))

    def retrieve(self, intent: str, exclude_id: str | None = None) -> str:
        """The skeleton of the most similar train intent by BM25 alone (`""` when nothing matches)."""
        return self.retrieve_entry(intent, exclude_id).pattern

    # ------------------------------------------------------------------------------------------ kind-aware ranking
    def _doc_keys(self, index: int) -> frozenset[str]:
        keys = self._doc_key_cache.get(index)
        if keys is None:
            keys = self._doc_key_cache[index] = document_keys(self.entries[index].yaml)
        return keys

    def ranked(
        self,
        intent: str,
        *,
        kind_aware: bool = True,
        exclude_id: str | None = None,
        target: str | None = None,
        limit: int = 8,
        kind_weight: float | None = None,
        extra_kind_weight: float | None = None,
    ) -> list[int]:
        """Indices of the best `limit` leak-free entries for `intent`, best first.

        Args:
            intent: The request.
            kind_aware: Rank by BM25 + `kind_weight` x (requested kinds present - `extra_kind_weight` x
                unrequested kinds present) instead of BM25 alone (only when the intent names a kind).
            exclude_id: A train example's id: it and its whole source file are skipped.
            target: The example's target YAML: entries containing all of its documents (after normalisation,
                `document_keys`) are skipped.
            limit: How many indices to return at most.
            kind_weight, extra_kind_weight: Override `KIND_WEIGHT` / `EXTRA_KIND_WEIGHT` (for measurements).

        Only entries sharing at least one word with the intent (BM25 > 0) are candidates.
        """
        scores = self.scores(intent)
        self._exclude(scores, exclude_id)
        candidates = np.flatnonzero(scores > 0)
        if not len(candidates):
            return []
        key = -scores[candidates]
        requested = self.detect(intent) if kind_aware else []
        if requested:
            weight = KIND_WEIGHT if kind_weight is None else kind_weight
            extra_weight = EXTRA_KIND_WEIGHT if extra_kind_weight is None else extra_kind_weight
            present_all = np.zeros(len(self.entries), dtype=np.float64)
            for kind in requested:
                present_all[self._by_kind.get(kind, [])] += 1.0
            present = present_all[candidates]
            extra = self._kind_count[candidates] - present
            key = key - weight * (present - extra_weight * extra)
        order = candidates[np.lexsort((candidates, key))]  # ties: earlier entry first
        target_docs = load_mappings(target) if target else []
        target_keys = frozenset(json.dumps(doc, sort_keys=True, default=str) for doc in target_docs)
        # cheap necessary condition before parsing a candidate: every target value that is a plain string (names,
        # images, ...) occurs in its text
        needles = [v for doc in target_docs for v in _string_leaves(doc)][:8]
        out: list[int] = []
        for index in order:
            text = self.entries[int(index)].yaml
            if target_keys and all(n in text for n in needles) and target_keys <= self._doc_keys(int(index)):
                continue  # this train manifest holds the whole target: a leak
            out.append(int(index))
            if len(out) >= limit:
                break
        return out

    def detect(self, intent: str) -> list[str]:
        """The kinds `intent` asks for (`kinds.detect_kinds`, with this bank's custom resources recognised)."""
        return detect_kinds(intent, self.kind_vocabulary)

    def compose(
        self, intent: str, base: int, *, exclude_id: str | None = None, target: str | None = None
    ) -> str:
        """The YAML of entry `base` plus, for every requested kind it lacks, that kind's documents from the best
        (BM25) entry holding it. Returns the base YAML alone when nothing is missing or no entry has the kind."""
        requested = self.detect(intent)
        base_entry = self.entries[base]
        text = base_entry.yaml.rstrip("\n") + "\n"
        missing = [k for k in requested if k not in base_entry.kinds]
        if not missing:
            return text
        scores = self.scores(intent)
        self._exclude(scores, exclude_id)
        parts: list[str] = []
        for kind in missing:
            holders = [i for i in self._by_kind.get(kind, ()) if scores[i] > -np.inf]
            if not holders:
                continue
            best = max(holders, key=lambda i: (scores[i], -i))
            parts.extend(doc for doc in split_documents(self.entries[best].yaml) if kind in _doc_kinds(doc))
        composed = "---\n".join([text, *(part.rstrip("\n") + "\n" for part in parts)])
        if target and document_keys(target) <= document_keys(composed):
            return text  # the added documents would complete the target: a leak, keep the base alone
        return composed

    def pattern_for(
        self,
        intent: str,
        config: RetrievalConfig | None = None,
        *,
        exclude_id: str | None = None,
        target: str | None = None,
        rng: random.Random | None = None,
    ) -> str:
        """The pattern input for `intent` as `config` says (`""` when no train intent shares a word with it).

        Args:
            intent: The request.
            config: Format and ranking (default `RetrievalConfig()`).
            exclude_id: Training: the example's own id (it and its source file are never retrieved).
            target: Training: the example's target YAML (no retrieved manifest may contain it).
            rng: Training: sample among the best `config.train_sample_top` candidates and mask exemplar words
                with `config.exemplar_mask_prob`. None (inference): the best candidates, unmasked.
        """
        config = config or RetrievalConfig()
        k = config.exemplar_k if config.pattern_format == "exemplar" else 1
        top = config.train_sample_top + k - 1 if rng is not None else k
        ranked = self.ranked(intent, kind_aware=config.kind_aware, exclude_id=exclude_id, target=target, limit=top)
        if not ranked:
            return ""
        if rng is not None and len(ranked) > k:
            ranked = [ranked[i] for i in sorted(rng.sample(range(len(ranked)), k))]
        chosen = ranked[:k]
        texts = [
            self.compose(intent, index, exclude_id=exclude_id, target=target)
            if config.kind_aware and config.compose and n == 0
            else self.entries[index].yaml
            for n, index in enumerate(chosen)
        ]
        if config.pattern_format == "skeleton":
            entry = self.entries[chosen[0]]
            if texts[0].rstrip("\n") == entry.yaml.rstrip("\n"):
                return Retrieved(entry, 0.0).pattern  # the stored skeleton, or the skeleton of its YAML
            return extract_pattern(texts[0])
        if config.adapt_exemplar:
            texts = [adapt_manifest(t, self.entries[index].intent, intent) for t, index in zip(texts, chosen)]
        texts = [t.strip("\n") for t in texts]
        if rng is not None and config.exemplar_mask_prob > 0:
            texts = [mask_words(t, config.exemplar_mask_prob, rng) for t in texts]
        return EXEMPLAR_SEPARATOR.join(texts)

    def manifest_for(
        self, intent: str, *, kind_aware: bool = True, compose: bool = False, adapt: bool = False
    ) -> str:
        """The retrieved YAML for `intent` (retrieval as a system): the best train manifest (with `compose`, plus
        the documents of requested kinds it lacks from other files; with `adapt`, edited by the differences
        between its train intent and `intent`, `k8s_data.adapt`); `""` when nothing matches."""
        ranked = self.ranked(intent, kind_aware=kind_aware, limit=1)
        if not ranked:
            return ""
        entry = self.entries[ranked[0]]
        text = self.compose(intent, ranked[0]) if kind_aware and compose else entry.yaml
        return adapt_manifest(text, entry.intent, intent) if adapt else text

    # ------------------------------------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write the bank as JSON (entries and BM25 parameters); gzip-compressed when `path` ends in `.gz`."""
        payload = {"format": "dual-codet5 pattern bank", "version": 2, "k1": self.k1, "b": self.b,
                   "entries": [asdict(e) for e in self.entries]}
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        path = Path(path)
        path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)

    @classmethod
    def load(cls, path: str | Path) -> PatternBank:
        """Read a bank written by `save` (plain or gzip JSON; version 1 banks without `yaml` load too).

        Raises:
            ValueError: when the file is not a bank (not JSON, or entries missing their fields).
        """
        path = Path(path)
        raw = path.read_bytes()
        try:
            payload = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
            known = {f.name for f in fields(BankEntry)}
            entries = [BankEntry(**{k: v for k, v in e.items() if k in known} | {"kinds": tuple(e.get("kinds", ()))})
                       for e in payload["entries"]]
            return cls(entries, k1=float(payload["k1"]), b=float(payload["b"]))
        except (ValueError, KeyError, TypeError, OSError, EOFError) as err:
            raise ValueError(f"{path}: not a pattern bank ({type(err).__name__}: {err})") from None


_DOC_SEPARATOR = re.compile(r"^---[ \t]*(?:#.*)?$", re.MULTILINE)
_MASKABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/]*")
_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9._:/@-]+")  # a value written like this appears verbatim in any YAML form
MASK_TOKEN = "<mask>"  # CodeT5's mask token, also a special token of k8s_data.train_tokenizer


def split_documents(yaml_text: str) -> list[str]:
    """The document texts of a YAML stream split at `---` lines (comments kept), empty ones dropped."""
    return [part.strip("\n") + "\n" for part in _DOC_SEPARATOR.split(yaml_text) if part.strip()]


def _doc_kinds(doc_text: str) -> set[str]:
    return {str(d.get("kind")) for d in load_mappings(doc_text)}


def document_keys(yaml_text: str) -> frozenset[str]:
    """Normalised documents of a manifest (parsed, keys sorted, formatting and comments gone) for leak checks."""
    return frozenset(json.dumps(doc, sort_keys=True, default=str) for doc in load_mappings(yaml_text or ""))


def _string_leaves(value: object) -> list[str]:
    """The string values (not keys) of a parsed document, depth first."""
    if isinstance(value, dict):
        return [leaf for child in value.values() for leaf in _string_leaves(child)]
    if isinstance(value, list):
        return [leaf for child in value for leaf in _string_leaves(child)]
    return [value] if isinstance(value, str) and _PLAIN_TOKEN.fullmatch(value) else []


def mask_words(text: str, prob: float, rng: random.Random) -> str:
    """Replace each word (key, value or name) of `text` by `<mask>` with probability `prob`."""
    return _MASKABLE.sub(lambda m: MASK_TOKEN if rng.random() < prob else m.group(0), text)
