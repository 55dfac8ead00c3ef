"""From intent to a checked manifest: generation, best-of-n reranking by the judge, optional repair, a lint report.

`generate_manifest` is the Python entry point behind `dual-codet5 generate`:

1. the pattern comes from the pattern bank and retrieval settings saved with the model (`k8s_data.load_retrieval`;
   the bundled default bank, with a warning, for a folder without them) unless one is given;
2. the model generates `n` candidates (beam search by default: the `n` best beams; or sampling);
3. with `repair=True` each candidate goes through `k8s_scoring.repair` (deterministic, minimal edits);
4. `pick_best` keeps the candidate with the best reference-free quality (`k8s_scoring.score(c)["quality"]`: schema
   validity x (BP, security, complexity)); ties go to schema validity, then BP, then security, then the earlier
   candidate, so the choice is deterministic;
5. with `fallback="retrieval"`, when no candidate is schema-valid, the retrieved manifest of the nearest train
   intent (`k8s_data.retrieve_manifest`) is returned instead, marked `result.source == "retrieval-fallback"`;
6. `lint_report` says what is still wrong, with how to fix it.

Example:

```python
>>> from dual_codet5.generate import generate_manifest
>>> result = generate_manifest("Deploy nginx with 3 replicas behind a load balancer", model="outputs/final", n=4)
>>> print(result.yaml)
>>> result.lint["quality"], [c["quality"] for c in result.candidates]
```
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from k8s_scoring import CHECKS_BY_ID, analyze, quality, score, validate

logger = logging.getLogger(__name__)

__all__ = [
    "FALLBACKS", "GenerationResult", "Selection", "generate_manifest", "generate_manifests", "lint_report",
    "pick_best", "score_line", "select_and_repair",
]  # fmt: skip

# Where `GenerationResult.yaml` came from, and the `fallback=` choices of `generate_manifest`.
SOURCE_MODEL, SOURCE_RETRIEVAL_FALLBACK = "model", "retrieval-fallback"
FALLBACKS = ("none", "retrieval")

# pick_best's order: quality first, then these, then the earlier index (see `pick_best`).


def pick_best(candidates: Sequence[str]) -> tuple[int, list[dict[str, float]]]:
    """Pick the best of `n` candidate manifests without a reference.

    The key is the reference-free quality (0-100); ties are broken by schema validity, then BP%, then the security
    score, then complexity, then the earlier index. Deterministic for a given list. No free points, by the same rule
    as the RL reward (`k8s_scoring.scores.category_values`, applicability from `Analysis.applicable`): a category
    that applies to some candidate but not to this one -- a bare Service where the others also write the
    Deployment -- counts 0 for it; a category that applies to no candidate leaves the quality (renormalised). A
    quality that is n/a for every candidate (all StorageClasses) ranks by validity and complexity.

    Args:
        candidates: the candidate YAML texts, length `n >= 1`.

    Returns:
        `(best_index, scores)`: the index of the chosen candidate and, for every candidate in input order, its
        `score()` dict with an added `"index"`.
    """
    import math

    from k8s_scoring.scores import category_values

    if not candidates:
        raise ValueError("pick_best needs at least one candidate")
    scores = [{**score(text), "index": i} for i, text in enumerate(candidates)]
    analyses = [analyze(text) for text in candidates]  # parsed once per text (memoised); applicability lives here
    any_bp, any_sec = any(a.has_bp for a in analyses), any(a.has_security for a in analyses)

    def rank_key(i: int) -> tuple[float, ...]:
        s = scores[i]
        if analyses[i].valid:
            bp, security = category_values(analyses[i], any_bp, any_sec)
            ranked = quality(s["schema_valid"], bp, security, s["complexity"])
        else:  # invalid: every score is 0 already
            bp, security, ranked = s["bp"], s["security"], s["quality"]
        ranked = -1.0 if math.isnan(ranked) else ranked  # n/a below every real quality (0 included)
        return (ranked, s["schema_valid"], bp or 0.0, security or 0.0, s.get("complexity", 0.0), -i)

    return max(range(len(candidates)), key=rank_key), scores


def score_line(scores: dict[str, Any]) -> str:
    """The one-line verdict `dual-codet5 generate` and the demo app print for `score()` / `lint_report()` keys:
    YAML and schema validity, BP %, security, quality (``n/a`` where no check of the category applies)."""
    from k8s_scoring.report.text import fmt_score

    yes = {True: "yes", False: "NO"}
    return (
        f"valid YAML: {yes[bool(scores['yaml_valid'])]} | schema: {yes[bool(scores['schema_valid'])]} | "
        f"BP {fmt_score(scores['bp'], '.1f')}% | security {fmt_score(scores['security'], '.2f')} | "
        f"quality {fmt_score(scores['quality'], '.1f')}"
    )


def lint_report(text: str) -> dict[str, Any]:
    """What the judge says about one manifest, ready for a summary or JSON.

    Returns:
        A dict with the `score()` keys (`yaml_valid`, `schema_valid`, `bp`, `security`, `complexity`, `quality`),
        `errors` (why it is invalid: YAML or schema), `unchecked_kinds` (custom resources without a schema), and
        `failing`: one entry per failing (object, check) with `check_id`, `title`, `category`, `object`, `doc_index`,
        `details` (where) and `fix` (how to fix it).
    """
    report: dict[str, Any] = dict(score(text))
    analysis = analyze(text)
    validity = validate(text)
    report["errors"] = list(dict.fromkeys([*analysis.errors, *validity.errors]))
    report["unchecked_kinds"] = sorted(getattr(validity, "unchecked_kinds", []) or [])
    failing = []
    for obj in analysis.objects:
        for check_id, result in obj.checks.items():
            if str(result) != "fail":
                continue
            check = CHECKS_BY_ID.get(check_id)
            failing.append(
                {
                    "check_id": check_id,
                    "title": check.title if check else check_id,
                    "category": check.category if check else check_id.split(".")[0],
                    "object": f"{obj.kind}/{obj.name}",
                    "doc_index": obj.doc_index,
                    "details": list(getattr(obj, "details", {}).get(check_id, ())),
                    "fix": check.fix if check else "",
                }
            )
    report["failing"] = failing
    return report


@dataclass
class GenerationResult:
    """The outcome of `generate_manifest` for one intent.

    Args:
        intent: the request.
        pattern: the pattern the model was given (retrieved or user-supplied; may be empty).
        yaml: the chosen manifest (repaired when `repair=True`).
        lint: `lint_report(yaml)`.
        best_index: which candidate was chosen.
        candidates: per candidate, in generation order: `index`, `yaml` (repaired when `repair=True`), its `score()`
            keys, and with repair the `raw_quality` before repair and the number of `repairs`.
        changes: the repairs made to the chosen candidate (`k8s_scoring.repair.Change`), empty without repair.
        raw_yaml: the chosen candidate as the model wrote it (before repair); with the fallback, the retrieved
            manifest before repair.
        source: `"model"`, or `"retrieval-fallback"` when no candidate was schema-valid and `fallback="retrieval"`
            returned the retrieved manifest of the nearest train example instead (`best_index` and `candidates`
            still describe the model's candidates).
        repair_level: the `k8s_scoring.repair` level applied (`"safe"` or `"strict"`), `None` without repair.
    """

    intent: str
    pattern: str
    yaml: str
    lint: dict[str, Any]
    best_index: int = 0
    candidates: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Any] = field(default_factory=list)
    raw_yaml: str = ""
    source: str = "model"
    repair_level: str | None = None

    @property
    def fallback_used(self) -> bool:
        """True when `yaml` is the retrieved manifest, not the model's."""
        return self.source == SOURCE_RETRIEVAL_FALLBACK

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what `dual-codet5 generate --format json` prints)."""
        return {
            "intent": self.intent,
            "pattern": self.pattern,
            "yaml": self.yaml,
            "lint": self.lint,
            "best_index": self.best_index,
            "candidates": self.candidates,
            "repairs": [c.to_dict() for c in self.changes],
            "raw_yaml": self.raw_yaml,
            "source": self.source,
            "fallback_used": self.fallback_used,
            "repair_level": self.repair_level,
        }


def _generation_kwargs(
    n: int,
    num_beams: int | None,
    do_sample: bool,
    temperature: float | None,
    top_k: int | None,
    top_p: float | None,
) -> dict[str, Any]:
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if num_beams is None:  # greedy for one answer, the n best beams for best-of-n; plain sampling when asked for
        num_beams = 1 if do_sample else n
    if do_sample and 1 < num_beams < n:
        raise ValueError(
            f"best-of-{n} with sampling needs num_beams=1 (n independent samples) or num_beams >= {n} "
            f"(beam sampling), got num_beams={num_beams}"
        )
    if not do_sample and num_beams < n:
        logger.info("best-of-%d with beam search: using num_beams=%d (the %d best beams)", n, n, n)
        num_beams = n
    kwargs: dict[str, Any] = {"num_beams": num_beams, "do_sample": do_sample, "num_return_sequences": n}
    if do_sample:
        settings = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
        kwargs.update({k: v for k, v in settings.items() if v is not None})
    elif any(v is not None for v in (temperature, top_k, top_p)):
        logger.warning("temperature / top_k / top_p only apply with do_sample=True; ignored")
    return kwargs


@dataclass
class Selection:
    """The select-and-repair step for the candidates of one intent (`select_and_repair`).

    Args:
        index: the chosen candidate.
        texts: the candidates after repair (as generated without repair), in generation order.
        raw_texts: the candidates as the model wrote them.
        changes: per candidate, the repairs made (`k8s_scoring.repair.Change`), empty lists without repair.
        scores: per candidate, `pick_best`'s `score()` dict of `texts[i]` (with `"index"`).
    """

    index: int
    texts: list[str]
    raw_texts: list[str]
    changes: list[list[Any]]
    scores: list[dict[str, float]]

    @property
    def text(self) -> str:
        """The chosen manifest."""
        return self.texts[self.index]

    @property
    def schema_valid(self) -> bool:
        """Whether the chosen manifest is schema-valid; `pick_best` ranks schema validity first, so False means no
        candidate is."""
        return bool(self.scores[self.index]["schema_valid"])


RepairLevel = bool | str  # False: no repair; True or "safe": safe repairs; "strict": also the hardening ones


def _repair(text: str, repair: RepairLevel) -> tuple[str, list[Any]]:
    """`k8s_scoring.repair` at the level `repair` names (True = "safe", the default level)."""
    from k8s_scoring.repair import RepairConfig
    from k8s_scoring.repair import repair as repair_fn

    return repair_fn(text, RepairConfig(level="safe" if repair is True else str(repair)))


def select_and_repair(candidates: Sequence[str], repair: RepairLevel = False) -> Selection:
    """Repair every candidate (optionally), then keep the best by `pick_best`: the step shared by `generate_manifest`
    and `evaluate_models.py`, so both choose exactly the same manifest.

    Args:
        candidates: the model's candidate YAML texts for one intent (at least one).
        repair: run `k8s_scoring.repair` on every candidate before ranking: `False`, `True` / `"safe"` (edits that
            cannot stop a working pod) or `"strict"` (also hardening that may break some images).

    Returns:
        `Selection`.
    """
    raw = list(candidates)
    changes: list[list[Any]] = [[] for _ in raw]
    texts = list(raw)
    if repair:
        for i, text in enumerate(raw):
            texts[i], changes[i] = _repair(text, repair)
    best, scores = pick_best(texts)
    return Selection(index=best, texts=texts, raw_texts=raw, changes=changes, scores=scores)


def _finish(
    intent: str, pattern: str, texts: list[str], repair: RepairLevel, fallback_text: str | None = None
) -> GenerationResult:
    """Repair (optionally), rerank and lint the candidates of one intent; with `fallback_text` (the retrieved
    manifest), return it instead when no candidate is schema-valid."""
    selection = select_and_repair(texts, repair)
    raw_quality = pick_best(texts)[1] if repair else None
    candidates = []
    for i, text in enumerate(selection.texts):
        scores = selection.scores[i]
        entry: dict[str, Any] = {"index": i, "yaml": text, **{k: v for k, v in scores.items() if k != "index"}}
        if raw_quality is not None:
            entry["raw_quality"] = raw_quality[i]["quality"]
            entry["repairs"] = len(selection.changes[i])
        candidates.append(entry)
    chosen, changes, source = selection.text, selection.changes[selection.index], SOURCE_MODEL
    if fallback_text is not None and not selection.schema_valid:
        logger.info("no schema-valid candidate for %r: returning the retrieved manifest", intent)
        chosen, changes, source = fallback_text, [], SOURCE_RETRIEVAL_FALLBACK
        if repair:
            chosen, changes = _repair(fallback_text, repair)
    return GenerationResult(
        intent=intent,
        pattern=pattern,
        yaml=chosen,
        lint=lint_report(chosen),
        best_index=selection.index,
        candidates=candidates,
        changes=changes,
        raw_yaml=selection.raw_texts[selection.index] if source == SOURCE_MODEL else fallback_text or "",
        source=source,
        repair_level=("safe" if repair is True else str(repair)) if repair else None,
    )


def _load(model: Any, device: str | None) -> Any:
    if isinstance(model, str) or hasattr(model, "__fspath__"):
        from dual_codet5.inference import load_for_inference

        return load_for_inference(str(model), device=device)
    return model


def _retrieval_of(loaded: Any) -> tuple[Any, Any]:
    """The model's `(pattern bank, retrieval config)` (`LoadedModel.retrieval`); the default ones for an object
    that has none (e.g. a stand-in model in tests)."""
    retrieval = getattr(loaded, "retrieval", None)
    if retrieval is not None:
        return retrieval
    from dual_codet5.inference import load_model_retrieval

    return load_model_retrieval(None)


def _default_lookup_bonus(loaded: Any) -> float:
    """`dual_codet5.lookup.default_bonus` of the retrieval settings saved with the model: on for exemplar patterns.
    A model without a local `retrieval_config.json` (trained before they were saved: skeletons) gets 0, quietly."""
    from dual_codet5.lookup import default_bonus

    config = getattr(loaded, "retrieval_config", None)
    return default_bonus(config) if config is not None else 0.0


def generate_manifests(
    intents: Sequence[str],
    model: Any,
    *,
    n: int = 1,
    repair: RepairLevel = False,
    fallback: str = "none",
    patterns: Sequence[str | None] | None = None,
    num_beams: int | None = None,
    do_sample: bool = False,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    max_new_tokens: int = 512,
    batch_size: int = 8,
    seed: int | None = None,
    device: str | None = None,
    early_stop: bool = True,
    max_time: float | None = None,
    lookup_bonus: float | None = None,
) -> list[GenerationResult]:
    """`generate_manifest` for a batch of intents (one batched `generate` call per `batch_size` intents).

    Args:
        intents: the requests.
        model: a `dual_codet5.inference.LoadedModel`, or a local folder / Hub id to load (`trust_remote_code=True`).
        n: candidates per intent (best-of-n; 1 = plain decoding).
        repair: run `k8s_scoring.repair` on every candidate before reranking.
        fallback: `"none"`, or `"retrieval"`: when no candidate is schema-valid, return the retrieved manifest of
            the nearest train intent (`k8s_data.retrieve_manifest` with the model's own bank; adapted to the intent
            when the model's retrieval settings adapt exemplars) instead, marked by
            `result.source == "retrieval-fallback"` (repaired too with `repair=True`).
        patterns: one pattern per intent; `None` entries (or `patterns=None`) are retrieved as the model was
            trained: with the pattern bank and retrieval settings saved in its folder (`k8s_data.load_retrieval`;
            the bundled default bank, with a warning, for a folder without them).
        num_beams: beam width (raised to `n` for beam search, which returns the `n` best beams); `None`: `n` (greedy
            for `n=1`: beam 4 on a CPU runs into the time budget with long manifests), 1 with `do_sample`.
        do_sample: sample the `n` candidates instead of beam search.
        temperature, top_k, top_p: sampling settings (only with `do_sample`).
        max_new_tokens: generation length limit.
        batch_size: intents per `generate` call.
        seed: seeds torch (and Python, NumPy) first, for reproducible sampling.
        device: where to load `model` when it is a path.
        early_stop: stop and cut degenerate outputs (`dual_codet5.stopping`, see `generate_yaml`).
        max_time: wall-time budget in seconds per intent (None = none; see `generate_yaml`).
        lookup_bonus: exemplar lookup (`dual_codet5.lookup`) in nats; `None`: `lookup.default_bonus` of the model's
            retrieval settings (on for exemplar patterns, off otherwise); 0 = off.

    Returns:
        One `GenerationResult` per intent, in order.
    """
    from dual_codet5.inference import generate_yaml

    if fallback not in FALLBACKS:
        raise ValueError(f"fallback must be one of {FALLBACKS}, got {fallback!r}")
    gen_kwargs = _generation_kwargs(n, num_beams, do_sample, temperature, top_k, top_p)
    patterns = [None] * len(intents) if patterns is None else list(patterns)
    if len(patterns) != len(intents):
        raise ValueError(f"got {len(intents)} intents but {len(patterns)} patterns")
    loaded = _load(model, device)
    if any(p is None for p in patterns) or fallback == "retrieval":
        bank, config = _retrieval_of(loaded)
    if lookup_bonus is None:
        lookup_bonus = _default_lookup_bonus(loaded)
    if any(p is None for p in patterns):
        patterns = [bank.pattern_for(i, config) if p is None else p for i, p in zip(intents, patterns)]
    fallback_texts: list[str | None] = [None] * len(intents)
    if fallback == "retrieval":
        from k8s_data import RetrievalConfig, retrieve_manifest

        # ranked as retrieval always ranks; adapted to the intent when the model's exemplars are
        fallback_config = RetrievalConfig(adapt_exemplar=config.adapt_exemplar)
        fallback_texts = [retrieve_manifest(intent, bank, fallback_config) for intent in intents]
    if seed is not None:
        from transformers import set_seed

        set_seed(seed)
    outputs = generate_yaml(
        loaded, list(intents), patterns, batch_size=batch_size, max_new_tokens=max_new_tokens,
        early_stop=early_stop, max_time=max_time, lookup_bonus=lookup_bonus, **gen_kwargs,
    )  # fmt: skip
    return [
        _finish(i, p, texts, repair, fallback_text=f)
        for i, p, texts, f in zip(intents, patterns, outputs, fallback_texts)
    ]


def generate_manifest(
    intent: str,
    model: Any,
    *,
    n: int = 1,
    repair: RepairLevel = False,
    fallback: str = "none",
    pattern: str | None = None,
    num_beams: int | None = None,
    do_sample: bool = False,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    max_new_tokens: int = 512,
    seed: int | None = None,
    device: str | None = None,
    early_stop: bool = True,
    max_time: float | None = None,
    lookup_bonus: float | None = None,
) -> GenerationResult:
    """Generate a Kubernetes manifest for one intent, pick the best of `n`, optionally repair it, and lint it.

    Args:
        intent: the request, e.g. "Deploy nginx with 3 replicas behind a load balancer".
        model: a `LoadedModel` or a local folder / Hub id.
        n: best-of-n candidates (their scores are in `result.candidates`).
        repair: apply `k8s_scoring.repair` to the candidates (its changes are in `result.changes`).
        fallback: `"retrieval"` returns the retrieved manifest when no candidate is schema-valid
            (`result.fallback_used`); `"none"` (default) always returns the model's best candidate.
        pattern: the pattern to condition on; `None` retrieves one with the model's own pattern bank and retrieval
            settings, `""` uses none.
        num_beams, do_sample, temperature, top_k, top_p, max_new_tokens, seed, device, early_stop, max_time,
            lookup_bonus: see `generate_manifests`.

    Returns:
        `GenerationResult`.
    """
    return generate_manifests(
        [intent],
        model,
        n=n,
        repair=repair,
        fallback=fallback,
        patterns=[pattern],
        num_beams=num_beams,
        do_sample=do_sample,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        max_new_tokens=max_new_tokens,
        seed=seed,
        device=device,
        early_stop=early_stop,
        max_time=max_time,
        lookup_bonus=lookup_bonus,
    )[0]
