"""Run every check of `rules.CHECKS` on every object of an input: `analyze` and the BP% / security aggregates."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from .documents import KubeObject, ParsedInput, parse_any
from .podspec import mapping, pod_view
from .rules import BP_CHECKS, CHECKS, SEC_CHECKS, CheckResult, ObjectContext

logger = logging.getLogger(__name__)

_HPA_KIND = "HorizontalPodAutoscaler"


@dataclass(slots=True)
class ObjectResult:
    """Check results of one Kubernetes object.

    Args:
        doc_index: Index of the object's YAML document in the stream.
        kind: ``kind`` of the object.
        name: ``metadata.name`` (``generateName`` when only that is set).
        namespace: ``metadata.namespace``, `None` when absent.
        api_version: ``apiVersion`` of the object.
        checks: Check id -> result, for every check of `CHECKS` (in registry order).
        details: Check id -> what is wrong, for failed checks only.
        item_index: Position inside a ``kind: List`` document, or `None`.
    """

    doc_index: int
    kind: str
    name: str
    namespace: str | None
    api_version: str
    checks: dict[str, CheckResult]
    details: dict[str, tuple[str, ...]] = field(default_factory=dict)
    item_index: int | None = None

    @property
    def failed(self) -> list[str]:
        return [check_id for check_id, result in self.checks.items() if result is CheckResult.FAIL]


@dataclass(slots=True)
class Analysis:
    """The checks of a whole input.

    Args:
        valid: Whether the input is valid Kubernetes YAML (`ParsedInput.valid`); invalid input scores 0.
        errors: Why it is invalid (empty when valid).
        objects: One `ObjectResult` per object (empty when invalid).
        bp: Best-practice score, 0-100: passed / applicable over all (object, BP check) pairs; NaN (n/a) when no BP
            check applies to any object (a lone StorageClass), 0 when the input is invalid.
        security: Security score, 0-1: weighted passed / weighted applicable over all (object, security check) pairs;
            NaN (n/a) when no security check applies, 0 when invalid.
        applicable: Number of applicable (object, check) pairs per category, ``{"bp": n, "sec": m}``: the single
            source of "does this category apply" for the reward, quality and best-of-n.
    """

    valid: bool
    errors: list[str]
    objects: list[ObjectResult]
    bp: float
    security: float
    applicable: dict[str, int] = field(default_factory=lambda: {"bp": 0, "sec": 0})

    @property
    def has_bp(self) -> bool:
        """Whether any best-practice check applies to any object."""
        return self.applicable["bp"] > 0

    @property
    def has_security(self) -> bool:
        """Whether any security check applies to any object."""
        return self.applicable["sec"] > 0


def hpa_targets(objects: Iterable[KubeObject]) -> frozenset[tuple[str | None, str, str, int]]:
    """``(namespace, kind, name, maxReplicas)`` of the targets of the HorizontalPodAutoscalers among ``objects``
    (``maxReplicas`` 0 when missing or not an integer)."""
    targets = set()
    for obj in objects:
        if obj.kind == _HPA_KIND:
            spec = mapping(obj.data.get("spec"))
            ref = mapping(spec.get("scaleTargetRef"))
            kind, name = ref.get("kind"), ref.get("name")
            high = spec.get("maxReplicas")
            high = high if isinstance(high, int) and not isinstance(high, bool) else 0
            if isinstance(kind, str) and isinstance(name, str):
                targets.add((obj.namespace, kind, name, high))
    return frozenset(targets)


def check_object(
    obj: KubeObject, targets: frozenset[tuple[str | None, str, str, int]] = frozenset()
) -> ObjectResult:
    """Run every check on one object."""
    data = obj.data
    ctx = ObjectContext(data, obj.kind, obj.api_version, pod_view(data), targets)
    checks: dict[str, CheckResult] = {}
    details: dict[str, tuple[str, ...]] = {}
    for check in CHECKS:
        result, where = check.evaluate(ctx)
        checks[check.id] = result
        if where:
            details[check.id] = where
    return ObjectResult(
        obj.doc_index, obj.kind, obj.name, obj.namespace, obj.api_version, checks, details, obj.item_index
    )


def count_applicable(objects: Iterable[ObjectResult]) -> dict[str, int]:
    """Applicable (object, check) pairs per category: ``{"bp": n, "sec": m}``."""
    counts = {"bp": 0, "sec": 0}
    for result in objects:
        checks = result.checks
        for check in CHECKS:
            if checks[check.id] is not CheckResult.NA:
                counts[check.category] += 1
    return counts


def bp_percent(objects: Iterable[ObjectResult], empty: float = math.nan) -> float:
    """BP% (0-100) over all (object, BP check) pairs; ``empty`` (NaN: n/a) when no BP check applies."""
    passed = applicable = 0
    for result in objects:
        checks = result.checks
        for check in BP_CHECKS:
            outcome = checks[check.id]
            if outcome is not CheckResult.NA:
                applicable += 1
                passed += outcome is CheckResult.PASS
    return 100.0 * passed / applicable if applicable else empty


def security_score(objects: Iterable[ObjectResult], empty: float = math.nan) -> float:
    """Weighted security score (0-1); ``empty`` (NaN: n/a) when no security check applies (a lone Service)."""
    passed = applicable = 0
    for result in objects:
        checks = result.checks
        for check in SEC_CHECKS:
            outcome = checks[check.id]
            if outcome is not CheckResult.NA:
                applicable += check.weight
                passed += check.weight * (outcome is CheckResult.PASS)
    return passed / applicable if applicable else empty


def analyze_parsed(parsed: ParsedInput) -> Analysis:
    """`analyze` on an already parsed input (lets `score` parse once)."""
    if not parsed.valid:
        return Analysis(False, list(parsed.errors), [], 0.0, 0.0)
    targets = hpa_targets(parsed.objects)
    results = [check_object(obj, targets) for obj in parsed.objects]
    return Analysis(True, [], results, bp_percent(results), security_score(results), count_applicable(results))


def analyze(text: str) -> Analysis:
    """Check a YAML text against every rule of ``k8s_checks.md``; never raises.

    Args:
        text: One or more YAML documents.

    Returns:
        `Analysis`: validity, errors, per-object results, and the input's BP% (0-100) and security score (0-1).
        Invalid input gives ``valid=False`` and ``bp == security == 0``; a category with no applicable check is NaN.

    Example:
        >>> a = analyze("apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: c, namespace: app}\\n")
        >>> a.valid, a.objects[0].checks["bp.explicit_namespace"], a.bp
        (True, <CheckResult.PASS: 'pass'>, 100.0)
    """
    return analyze_parsed(parse_any(text))
