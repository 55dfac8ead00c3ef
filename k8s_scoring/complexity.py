"""Complexity score (0-1, 1 = as simple as it should be): penalises bloat, not content.

Two size measures per object, both from `documents.parse` (no second pass over the text):

- ``L``: content lines (not blank, not comment-only) of the object's YAML;
- ``D``: nesting depth of mappings/sequences.

Without a reference, each object is compared with corpus percentiles of its kind (``data/complexity_percentiles.json``,
built by ``python -m k8s_scoring._build_percentiles``; kinds with fewer than 20 corpus objects use the all-kinds row)::

    c(object) = 0.5 * min(1, L_p / L) + 0.5 * min(1, D_p / D)
    complexity = min over objects of c(object)

With a reference (the whole prediction against the whole reference; ``L`` summed over objects, ``D`` the maximum)::

    complexity = 0.5 * min(1, line_tolerance * L_ref / L_pred) + 0.5 * min(1, (D_ref + depth_tolerance) / D_pred)

Monotone: adding a key adds a content line and never lowers a depth, and every term is non-increasing in ``L`` and
``D``; the minimum over objects cannot rise when objects are added. Invalid input scores 0.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

from .documents import KubeObject, ParsedInput, parse_any, parse_cached

logger = logging.getLogger(__name__)

PERCENTILES_FILE = "complexity_percentiles.json"


@dataclass(frozen=True)
class ComplexityConfig:
    """Tolerances of the complexity score."""

    line_tolerance: float = field(
        default=1.5,
        metadata={
            "help": "Lines allowed per reference line before any penalty: best-practice fields (probes, resources, "
            "securityContext) legitimately make a prediction longer than a bare reference."
        },
    )
    depth_tolerance: int = field(default=1, metadata={"help": "Extra nesting levels allowed beyond the reference."})


DEFAULT_COMPLEXITY = ComplexityConfig()


@lru_cache(maxsize=1)
def corpus_percentiles() -> dict:
    """The precomputed per-kind line/depth percentiles (see `k8s_scoring._build_percentiles`)."""
    return json.loads(files("k8s_scoring").joinpath("data", PERCENTILES_FILE).read_text())


def _ratio(limit: float, value: float) -> float:
    return 1.0 if value <= limit else limit / value


def object_complexity(obj: KubeObject) -> float:
    """``0.5 * min(1, L_p / L) + 0.5 * min(1, D_p / D)`` against the percentiles of the object's kind."""
    table = corpus_percentiles()
    row = table["kinds"].get(obj.kind, table["all"])
    return 0.5 * _ratio(row["lines"], obj.lines) + 0.5 * _ratio(row["depth"], obj.depth)


def complexity_parsed(
    parsed: ParsedInput, reference: ParsedInput | None = None, config: ComplexityConfig = DEFAULT_COMPLEXITY
) -> float:
    """`complexity` on already parsed inputs. An invalid reference falls back to the corpus percentiles."""
    if not parsed.valid:
        return 0.0
    if reference is not None and reference.valid:
        lines = _ratio(config.line_tolerance * reference.total_lines, parsed.total_lines)
        depth = _ratio(reference.max_depth + config.depth_tolerance, parsed.max_depth)
        return 0.5 * lines + 0.5 * depth
    return min(object_complexity(obj) for obj in parsed.objects)


def complexity(prediction: str, reference: str | None = None, config: ComplexityConfig = DEFAULT_COMPLEXITY) -> float:
    """Complexity score of a YAML text (0-1; 1 = no bloat); never raises.

    Args:
        prediction: The YAML to score.
        reference: Optional reference YAML; when given (and valid), sizes are compared with it instead of the corpus.
        config: Tolerances.

    Returns:
        The score in [0, 1]; 0 for invalid input.
    """
    ref = parse_cached(reference) if isinstance(reference, str) else None
    return complexity_parsed(parse_any(prediction), ref, config)
