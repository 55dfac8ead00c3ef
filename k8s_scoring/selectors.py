"""Kubernetes label-selector semantics (``matchLabels`` + ``matchExpressions``), as in apimachinery's
``LabelSelectorAsSelector``: an empty selector matches everything, a missing (null) one matches nothing."""

from __future__ import annotations

from typing import Any


def _label_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def selector_matches(selector: Any, labels: Any) -> bool:
    """Whether a ``LabelSelector`` selects a label set.

    Args:
        selector: A mapping with optional ``matchLabels`` and ``matchExpressions``; `None` selects nothing.
        labels: The labels of the selected object (a mapping; anything else counts as no labels).

    Returns:
        `True` when every ``matchLabels`` pair and every ``matchExpressions`` requirement holds. A malformed
        selector (wrong types, unknown operator) matches nothing.
    """
    if not isinstance(selector, dict):
        return False
    labels = labels if isinstance(labels, dict) else {}
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, dict) or not isinstance(expressions, list):
        return False
    for key, value in match_labels.items():
        if key not in labels or _label_value(labels[key]) != _label_value(value):
            return False
    for expression in expressions:
        if not isinstance(expression, dict) or not _requirement_holds(expression, labels):
            return False
    return True


def _requirement_holds(expression: dict, labels: dict) -> bool:
    key, operator = expression.get("key"), expression.get("operator")
    values = expression.get("values") or []
    if not isinstance(values, list):
        return False
    values = {_label_value(v) for v in values}
    present = key in labels
    if operator == "In":
        return present and _label_value(labels[key]) in values
    if operator == "NotIn":
        return not present or _label_value(labels[key]) not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    return False


def selector_is_empty(selector: Any) -> bool:
    """A selector with no requirements (Kubernetes rejects it for workload controllers)."""
    return isinstance(selector, dict) and not selector.get("matchLabels") and not selector.get("matchExpressions")
