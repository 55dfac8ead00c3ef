"""All scores of one prediction (`score`), the quality formula, and the batch RL reward (`reward_fn`).

One formula each, used everywhere (k8s_checks.md, "Other scores"):

- ``quality = 100 * verified * (0.5 * bp/100 + 0.3 * security + 0.2 * complexity) / (sum of the weights of the
  components that apply)`` (0-100); n/a (NaN) when neither a BP nor a security check applies.
- ``reward = verified * (w_c * codebleu + w_b * bp/100 + w_s * security + w_x * complexity) / (sum of the weights
  of the components that apply)`` (0-1), default weights 0.3 / 0.4 / 0.2 / 0.1 (`RewardWeights`).

``verified`` (0-1) is the validity credit (`verified_share`): 0 when the API server would reject any object
(`validity.validate`), else the share of objects that could be verified -- 1 for built-in kinds, 0 for a custom
resource whose schema is unknown. ``schema_valid`` (0/1, what tables and McNemar count) is 1 only when every object
was verified and accepted. Invalid YAML scores 0 everywhere (never "no applicable checks = 100 %").

No free points: a category (BP, security) with no applicable check is n/a -- ``bp`` / ``security`` are NaN -- and
leaves the weighted sums; its weight is spread over the others. In the reward a category applies when it applies to the
prediction OR to the reference: when only the reference has applicable checks, the prediction scores 0 in it (it left
out the workload the reference needed); when neither has any (a StorageClass against a StorageClass), the reward is
CodeBLEU and complexity alone. Applicability comes from `Analysis.applicable`; `dual_codet5.generate.pick_best`
uses the same rule (`category_values`). The prediction is parsed once; references are parsed through a small cache.
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
from .validity import Validity, validate_parsed

logger = logging.getLogger(__name__)

SCORE_KEYS = ("yaml_valid", "schema_valid", "verified", "bp", "security", "complexity", "quality")
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


def _present(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def quality(schema_valid: float, bp: float | None, security: float | None, complexity: float) -> float:
    """``100 * schema_valid * (0.5 * bp/100 + 0.3 * security + 0.2 * complexity)``; ``bp`` in 0-100, rest 0-1.

    A category that does not apply (``bp`` / ``security`` `None` or NaN) leaves the sum and the weights are
    renormalised over the others; when neither BP nor security applies the quality is n/a (NaN): complexity alone
    says nothing about the object's quality, and "no check applies" must never read as 100.
    """
    if not _present(bp) and not _present(security):
        return math.nan
    total = mixed = 0.0
    for weight, value in ((0.5, bp / 100.0 if _present(bp) else None), (0.3, security), (0.2, complexity)):
        if _present(value):
            total += weight
            mixed += weight * value  # type: ignore[operator]
    return 100.0 * schema_valid * mixed / total


def reward(
    yaml_valid: float, codebleu: float | None, bp: float | None, security: float | None, complexity: float | None,
    weights: RewardWeights = DEFAULT_WEIGHTS,
) -> float:  # fmt: skip
    """Validity-gated weighted reward in [0, 1]; ``bp`` in 0-100, the rest in 0-1.

    A component given as `None` (or NaN) does not apply: it leaves the weighted sum and the weights are renormalised
    over the components that apply. ``yaml_valid`` is the gate (`score` passes its 0-1 ``schema_valid``).
    """
    parts = (
        (weights.codebleu, codebleu), (weights.bp, bp / 100.0 if _present(bp) else None),
        (weights.security, security), (weights.complexity, complexity),
    )  # fmt: skip
    total = sum(weight for weight, value in parts if _present(value))
    if total <= 0:
        return 0.0
    mixed = sum(weight * value for weight, value in parts if _present(value))  # type: ignore[operator]
    return yaml_valid * mixed / total


def category_values(analysis: Analysis, other_bp: bool, other_sec: bool) -> tuple[float | None, float | None]:
    """BP (0-100) and security (0-1) of ``analysis`` for a comparison with another input that has (``other_*``)
    applicable checks: the own value where the category applies to this input; 0 where it applies only to the other
    one (the workload it needed is missing); `None` (leave it out) where it applies to neither."""
    bp = analysis.bp if analysis.has_bp else (0.0 if other_bp else None)
    security = analysis.security if analysis.has_security else (0.0 if other_sec else None)
    return bp, security


def applicable_categories(text: str) -> tuple[bool, bool]:
    """Whether any best-practice and any security check applies to ``text`` (``(False, False)`` when invalid).

    Read from `Analysis.applicable`, the one place where applicability is computed.
    """
    parsed = parse_any(text)
    if not parsed.valid:
        return False, False
    analysis = analyze_parsed(parsed)
    return analysis.has_bp, analysis.has_security


@lru_cache(maxsize=4096)
def _reference_applicable(reference: str) -> tuple[bool, bool]:
    """`applicable_categories` of a reference text, memoised (RL scores k samples against each reference)."""
    parsed = parse_cached(reference)
    if not parsed.valid:
        return False, False
    analysis = analyze_parsed(parsed)
    return analysis.has_bp, analysis.has_security


def verified_share(validity: Validity) -> float:
    """The validity credit of an input (0-1): 0 when any object is invalid; else the share of its objects that were
    verified (built-in kinds and custom resources with a known schema). An unverifiable custom resource earns none."""
    if not validity.schema_valid:
        return 0.0
    if not validity.unchecked_kinds:
        return 1.0
    return validity.verified_objects / validity.objects if validity.objects else 0.0


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
        ``yaml_valid`` (0/1), ``schema_valid`` (0/1: every object verified and accepted), ``verified``
        (0-1, `verified_share`: the validity credit that gates quality and reward), ``bp`` (0-100), ``security`` (0-1),
        ``complexity`` (0-1), ``quality`` (0-100), and with a reference ``codebleu`` (0-1) and ``reward`` (0-1).
        Invalid YAML: all 0. ``bp`` / ``security`` are NaN when no check of the category applies, ``quality`` NaN
        when neither applies (n/a: count these apart, never average them in as 100 or 0).
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
    verified = verified_share(validity)
    ref_parsed = parse_cached(reference) if isinstance(reference, str) else None
    simple = complexity_parsed(parsed, ref_parsed)
    result = {
        "yaml_valid": 1.0,
        # 0/1 for tables and McNemar: every object verified and accepted; the 0-1 share gates quality and reward
        "schema_valid": float(verified == 1.0),
        "verified": verified,
        "bp": analysis.bp,
        "security": analysis.security,
        "complexity": simple,
        "quality": quality(verified, *category_values(analysis, False, False), simple),
    }
    if reference is not None:
        codebleu = _codebleu(prediction, reference) if isinstance(reference, str) else 0.0
        result["codebleu"] = codebleu
        ref_bp, ref_sec = _reference_applicable(reference) if isinstance(reference, str) else (False, False)
        bp, security = category_values(analysis, ref_bp, ref_sec)
        result["reward"] = reward(verified, codebleu, bp, security, simple, weights)
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
