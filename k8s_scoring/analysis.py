"""Run every check of `rules.CHECKS` on every object of an input: `analyze` and the BP% / security aggregates."""

from __future__ import annotations

import logging
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
        bp: Best-practice score, 0-100: passed / applicable over all (object, BP check) pairs.
        security: Security score, 0-1: weighted passed / weighted applicable over all (object, security check) pairs.
    """

    valid: bool
    errors: list[str]
    objects: list[ObjectResult]
    bp: float
    security: float


def hpa_targets(objects: Iterable[KubeObject]) -> frozenset[tuple[str | None, str, str]]:
    """``(namespace, kind, name)`` targets of the HorizontalPodAutoscalers among ``objects``."""
    targets = set()
    for obj in objects:
        if obj.kind == _HPA_KIND:
            ref = mapping(mapping(obj.data.get("spec")).get("scaleTargetRef"))
            kind, name = ref.get("kind"), ref.get("name")
            if isinstance(kind, str) and isinstance(name, str):
                targets.add((obj.namespace, kind, name))
    return frozenset(targets)


def check_object(obj: KubeObject, targets: frozenset[tuple[str | None, str, str]] = frozenset()) -> ObjectResult:
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


def bp_percent(objects: Iterable[ObjectResult]) -> float:
    """BP% (0-100) over all (object, BP check) pairs; 100 when no BP check applies to any object."""
    passed = applicable = 0
    for result in objects:
        checks = result.checks
        for check in BP_CHECKS:
            outcome = checks[check.id]
            if outcome is not CheckResult.NA:
                applicable += 1
                passed += outcome is CheckResult.PASS
    return 100.0 * passed / applicable if applicable else 100.0


def security_score(objects: Iterable[ObjectResult]) -> float:
    """Weighted security score (0-1); 1 when no security check applies (e.g. only a Service and a ConfigMap)."""
    passed = applicable = 0
    for result in objects:
        checks = result.checks
        for check in SEC_CHECKS:
            outcome = checks[check.id]
            if outcome is not CheckResult.NA:
                applicable += check.weight
                passed += check.weight * (outcome is CheckResult.PASS)
    return passed / applicable if applicable else 1.0


def analyze_parsed(parsed: ParsedInput) -> Analysis:
    """`analyze` on an already parsed input (lets `score` parse once)."""
    if not parsed.valid:
        return Analysis(False, list(parsed.errors), [], 0.0, 0.0)
    targets = hpa_targets(parsed.objects)
    results = [check_object(obj, targets) for obj in parsed.objects]
    return Analysis(True, [], results, bp_percent(results), security_score(results))


def analyze(text: str) -> Analysis:
    """Check a YAML text against every rule of ``k8s_checks.md``; never raises.

    Args:
        text: One or more YAML documents.

    Returns:
        `Analysis`: validity, errors, per-object results, and the input's BP% (0-100) and security score (0-1).
        Invalid input gives ``valid=False`` and ``bp == security == 0``.

    Example:
        >>> a = analyze("apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: c, namespace: app}\\n")
        >>> a.valid, a.objects[0].checks["bp.explicit_namespace"], a.bp
        (True, <CheckResult.PASS: 'pass'>, 100.0)
    """
    return analyze_parsed(parse_any(text))
