"""From intent to a checked manifest: generation, best-of-n reranking by the judge, optional repair, a lint report.

`generate_manifest` is the Python entry point behind `dual-codet5 generate`:

1. the pattern comes from the bundled pattern bank (`k8s_data.default_pattern_bank().retrieve(intent)`) unless one
   is given;
2. the model generates `n` candidates (beam search by default: the `n` best beams; or sampling);
3. with `repair=True` each candidate goes through `k8s_scoring.repair` (deterministic, minimal edits);
4. `pick_best` keeps the candidate with the best reference-free quality (`k8s_scoring.score(c)["quality"]`: schema
   validity x (BP, security, complexity)); ties go to schema validity, then BP, then security, then the earlier
   candidate, so the choice is deterministic;
5. `lint_report` says what is still wrong, with how to fix it.

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

__all__ = ["GenerationResult", "generate_manifest", "generate_manifests", "lint_report", "pick_best"]

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
        raw_yaml: the chosen candidate as the model wrote it (before repair).
    """

    intent: str
    pattern: str
    yaml: str
    lint: dict[str, Any]
    best_index: int = 0
    candidates: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Any] = field(default_factory=list)
    raw_yaml: str = ""

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
    if num_beams is None:  # beam search by default; plain sampling when sampling is asked for
        num_beams = 1 if do_sample else 4
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


def _finish(intent: str, pattern: str, texts: list[str], repair: bool) -> GenerationResult:
    """Repair (optionally), rerank and lint the candidates of one intent."""
    changes_per: list[list[Any]] = [[] for _ in texts]
    final = list(texts)
    if repair:
        from k8s_scoring.repair import repair as repair_fn

        for i, text in enumerate(texts):
            final[i], changes_per[i] = repair_fn(text)
    best, scores = pick_best(final)
    raw_quality = pick_best(texts)[1] if repair else None
    candidates = []
    for i, text in enumerate(final):
        entry: dict[str, Any] = {"index": i, "yaml": text, **{k: v for k, v in scores[i].items() if k != "index"}}
        if raw_quality is not None:
            entry["raw_quality"] = raw_quality[i]["quality"]
            entry["repairs"] = len(changes_per[i])
        candidates.append(entry)
    return GenerationResult(
        intent=intent,
        pattern=pattern,
        yaml=final[best],
        lint=lint_report(final[best]),
        best_index=best,
        candidates=candidates,
        changes=changes_per[best],
        raw_yaml=texts[best],
    )


def _load(model: Any, device: str | None) -> Any:
    if isinstance(model, str) or hasattr(model, "__fspath__"):
        from dual_codet5.inference import load_for_inference

        return load_for_inference(str(model), device=device)
    return model


def generate_manifests(
    intents: Sequence[str],
    model: Any,
    *,
    n: int = 1,
    repair: bool = False,
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
) -> list[GenerationResult]:
    """`generate_manifest` for a batch of intents (one batched `generate` call per `batch_size` intents).

    Args:
        intents: the requests.
        model: a `dual_codet5.inference.LoadedModel`, or a local folder / Hub id to load (`trust_remote_code=True`).
        n: candidates per intent (best-of-n; 1 = plain decoding).
        repair: run `k8s_scoring.repair` on every candidate before reranking.
        patterns: one pattern per intent; `None` entries (or `patterns=None`) are retrieved from the bundled bank.
        num_beams: beam width (raised to `n` for beam search, which returns the `n` best beams); `None`: 4 for beam
            search, 1 with `do_sample`.
        do_sample: sample the `n` candidates instead of beam search.
        temperature, top_k, top_p: sampling settings (only with `do_sample`).
        max_new_tokens: generation length limit.
        batch_size: intents per `generate` call.
        seed: seeds torch (and Python, NumPy) first, for reproducible sampling.
        device: where to load `model` when it is a path.
        early_stop: stop and cut degenerate outputs (`dual_codet5.stopping`, see `generate_yaml`).
        max_time: wall-time budget in seconds per intent (None = none; see `generate_yaml`).

    Returns:
        One `GenerationResult` per intent, in order.
    """
    from dual_codet5.inference import generate_yaml

    gen_kwargs = _generation_kwargs(n, num_beams, do_sample, temperature, top_k, top_p)
    patterns = [None] * len(intents) if patterns is None else list(patterns)
    if len(patterns) != len(intents):
        raise ValueError(f"got {len(intents)} intents but {len(patterns)} patterns")
    if any(p is None for p in patterns):
        from k8s_data import default_pattern_bank

        bank = default_pattern_bank()
        patterns = [bank.retrieve(i) if p is None else p for i, p in zip(intents, patterns)]
    loaded = _load(model, device)
    if seed is not None:
        from transformers import set_seed

        set_seed(seed)
    outputs = generate_yaml(
        loaded, list(intents), patterns, batch_size=batch_size, max_new_tokens=max_new_tokens,
        early_stop=early_stop, max_time=max_time, **gen_kwargs,
    )  # fmt: skip
    return [_finish(i, p, texts, repair) for i, p, texts in zip(intents, patterns, outputs)]


def generate_manifest(
    intent: str,
    model: Any,
    *,
    n: int = 1,
    repair: bool = False,
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
) -> GenerationResult:
    """Generate a Kubernetes manifest for one intent, pick the best of `n`, optionally repair it, and lint it.

    Args:
        intent: the request, e.g. "Deploy nginx with 3 replicas behind a load balancer".
        model: a `LoadedModel` or a local folder / Hub id.
        n: best-of-n candidates (their scores are in `result.candidates`).
        repair: apply `k8s_scoring.repair` to the candidates (its changes are in `result.changes`).
        pattern: the pattern to condition on; `None` retrieves one from the bundled pattern bank, `""` uses none.
        num_beams, do_sample, temperature, top_k, top_p, max_new_tokens, seed, device, early_stop, max_time: see
            `generate_manifests`.

    Returns:
        `GenerationResult`.
    """
    return generate_manifests(
        [intent],
        model,
        n=n,
        repair=repair,
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
    )[0]
