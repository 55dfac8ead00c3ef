"""All scores of one prediction (`score`), the quality formula, and the batch RL reward (`reward_fn`).

One formula each, used everywhere (k8s_checks.md, "Other scores"):

- ``quality = 100 * schema_valid * (0.5 * bp/100 + 0.3 * security + 0.2 * complexity)``  (0-100)
- ``reward = yaml_valid * (w_c * codebleu + w_b * bp/100 + w_s * security + w_x * complexity) / sum(w)``  (0-1),
  default weights 0.3 / 0.4 / 0.2 / 0.1 (`RewardWeights`).

Invalid YAML scores 0 everywhere (never "no applicable checks = 100 %"). The prediction is parsed once; references
are parsed through a small cache because RL scores k samples against each reference.

Vacuous passes in the reward: a valid input to which no best-practice (or security) check applies scores BP 100
(security 1) on its own -- right for a lone Namespace that was asked for, but an RL policy could earn 0.7 of the reward
by answering every intent with a bare Namespace. So, in the reward only, when the REFERENCE has applicable checks of a
category and the prediction has none, that category scores 0 for the prediction (it left out the workload the reference
needed). The reported ``bp`` / ``security`` keys stay the reference-free values of `analyze`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache

from .analysis import Analysis, analyze_parsed
from .codebleu import codebleu_yaml
from .complexity import complexity_parsed
from .documents import parse_any, parse_cached
from .rules import BP_CHECKS, SEC_CHECKS, CheckResult
from .validity import validate_parsed

logger = logging.getLogger(__name__)

SCORE_KEYS = ("yaml_valid", "schema_valid", "bp", "security", "complexity", "quality")
REFERENCE_KEYS = ("codebleu", "reward")


@dataclass(frozen=True)
class RewardWeights:
    """Weights of the RL reward; normalised by their sum, so the reward stays in [0, 1]."""

    codebleu: float = field(default=0.3, metadata={"help": "Weight of CodeBLEU-YAML against the reference (0-1)."})
    bp: float = field(default=0.4, metadata={"help": "Weight of the best-practice score (BP% / 100)."})
    security: float = field(default=0.2, metadata={"help": "Weight of the weighted security score (0-1)."})
    complexity: float = field(default=0.1, metadata={"help": "Weight of the complexity score (0-1)."})

    def __post_init__(self) -> None:
        values = [getattr(self, f.name) for f in fields(self)]
        if any(not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 for v in values):
            raise ValueError(f"reward weights must be finite and >= 0, got {asdict(self)}")
        if sum(values) <= 0:
            raise ValueError(f"at least one reward weight must be > 0, got {asdict(self)}")

    @classmethod
    def coerce(cls, weights: RewardWeights | dict | None) -> RewardWeights:
        """`RewardWeights` from an instance, a dict of some of its fields, or `None` (the defaults)."""
        if weights is None:
            return cls()
        if isinstance(weights, cls):
            return weights
        if isinstance(weights, dict):
            unknown = set(weights) - {f.name for f in fields(cls)}
            if unknown:
                expected = ", ".join(f.name for f in fields(cls))
                raise ValueError(f"unknown reward weight(s) {sorted(unknown)}; expected some of {expected}")
            return cls(**weights)
        raise TypeError(f"weights must be RewardWeights, dict or None, not {type(weights).__name__}")


DEFAULT_WEIGHTS = RewardWeights()


def quality(schema_valid: float, bp: float, security: float, complexity: float) -> float:
    """``100 * schema_valid * (0.5 * bp/100 + 0.3 * security + 0.2 * complexity)``; ``bp`` in 0-100, rest 0-1."""
    return 100.0 * schema_valid * (0.5 * bp / 100.0 + 0.3 * security + 0.2 * complexity)


def reward(
    yaml_valid: float, codebleu: float, bp: float, security: float, complexity: float,
    weights: RewardWeights = DEFAULT_WEIGHTS,
) -> float:  # fmt: skip
    """Validity-gated weighted reward in [0, 1]; ``bp`` in 0-100, the rest in 0-1."""
    total = weights.codebleu + weights.bp + weights.security + weights.complexity
    mixed = (
        weights.codebleu * codebleu + weights.bp * bp / 100.0 + weights.security * security
        + weights.complexity * complexity
    )  # fmt: skip
    return yaml_valid * mixed / total


def _applicable(analysis: Analysis) -> tuple[bool, bool]:
    """Whether any (object, BP check) and any (object, security check) pair of ``analysis`` is applicable."""
    has_bp = any(obj.checks[c.id] is not CheckResult.NA for obj in analysis.objects for c in BP_CHECKS)
    has_sec = any(obj.checks[c.id] is not CheckResult.NA for obj in analysis.objects for c in SEC_CHECKS)
    return has_bp, has_sec


def applicable_categories(text: str) -> tuple[bool, bool]:
    """Whether any best-practice and any security check applies to ``text`` (``(False, False)`` when invalid).

    A valid input without applicable checks scores BP 100 / security 1 vacuously; callers that compare inputs meant
    to answer the same request (the reward, best-of-n) use this to give such vacuous passes no credit.
    """
    parsed = parse_any(text)
    return _applicable(analyze_parsed(parsed)) if parsed.valid else (False, False)


@lru_cache(maxsize=4096)
def _reference_applicable(reference: str) -> tuple[bool, bool]:
    """`applicable_categories` of a reference text, memoised (RL scores k samples against each reference)."""
    parsed = parse_cached(reference)
    return _applicable(analyze_parsed(parsed)) if parsed.valid else (False, False)


def _codebleu(prediction: str, reference: str) -> float:
    try:
        return float(codebleu_yaml(prediction, reference)["codebleu"])
    except Exception:  # noqa: BLE001 - scores never raise; a CodeBLEU failure is logged and scores 0
        logger.exception("codebleu_yaml failed; scoring CodeBLEU 0")
        return 0.0


def score(
    prediction: str, reference: str | None = None, weights: RewardWeights | dict | None = None
) -> dict[str, float]:
    """Every score of one prediction; never raises.

    Args:
        prediction: The YAML text to score.
        reference: Optional reference YAML; adds ``codebleu`` and ``reward`` and makes complexity relative to it.
        weights: Reward weights (`RewardWeights`, a dict of some of its fields, or `None` for 0.3/0.4/0.2/0.1).

    Returns:
        ``yaml_valid`` (0/1), ``schema_valid`` (0/1), ``bp`` (0-100), ``security`` (0-1), ``complexity`` (0-1),
        ``quality`` (0-100), and with a reference ``codebleu`` (0-1) and ``reward`` (0-1). Invalid YAML: all 0.
    """
    weights = RewardWeights.coerce(weights)
    parsed = parse_any(prediction)
    if not parsed.valid:
        zeros = dict.fromkeys(SCORE_KEYS, 0.0)
        if reference is not None:
            zeros.update(dict.fromkeys(REFERENCE_KEYS, 0.0))
        return zeros
    analysis = analyze_parsed(parsed)
    validity = validate_parsed(parsed)
    schema_valid = 1.0 if validity.schema_valid else 0.0
    ref_parsed = parse_cached(reference) if isinstance(reference, str) else None
    simple = complexity_parsed(parsed, ref_parsed)
    result = {
        "yaml_valid": 1.0,
        "schema_valid": schema_valid,
        "bp": analysis.bp,
        "security": analysis.security,
        "complexity": simple,
        "quality": quality(schema_valid, analysis.bp, analysis.security, simple),
    }
    if reference is not None:
        codebleu = _codebleu(prediction, reference) if isinstance(reference, str) else 0.0
        result["codebleu"] = codebleu
        bp, security = analysis.bp, analysis.security
        if isinstance(reference, str):  # vacuous passes do not count when the reference needed checks (see above)
            ref_bp, ref_sec = _reference_applicable(reference)
            has_bp, has_sec = _applicable(analysis)
            bp = bp if has_bp or not ref_bp else 0.0
            security = security if has_sec or not ref_sec else 0.0
        result["reward"] = reward(1.0, codebleu, bp, security, simple, weights)
    return result


def reward_fn(
    completions: list[str], references: list[str], weights: RewardWeights | dict | None = None
) -> list[float]:
    """Batch RL reward: ``score(c, r, weights)["reward"]`` for each pair.

    Args:
        completions: Generated YAML texts, ``(batch,)``.
        references: Reference YAML texts, ``(batch,)`` (repeat a reference for its k samples).
        weights: Reward weights, as in `score`.

    Returns:
        Rewards in [0, 1], ``(batch,)``.
    """
    if len(completions) != len(references):
        raise ValueError(f"{len(completions)} completions but {len(references)} references; pass one per completion")
    weights = RewardWeights.coerce(weights)
    return [score(completion, reference, weights)["reward"] for completion, reference in zip(completions, references)]
