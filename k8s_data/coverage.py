"""How much of an intent a manifest says: the share of the intent's literals found in the manifest's values.

"A Deployment named web with 3 replicas of nginx:1.25 on port 8080" states four literals (`web`, `3`, `nginx:1.25`,
`8080`, classes from `k8s_data.adapt.LITERAL_CLASSES`); a manifest that holds all four in its values covers the
intent fully, the unedited manifest of another app perhaps none. Reads only the intent and the manifest (never a
reference), so it may choose between answers at inference time: `bench/bench_select.py` measures that choice
between a model's answer and the retrieved manifest (docs/decoding.md, "With adapted exemplars: the cpu preset's
model, and choosing between it and retrieval").
"""

from __future__ import annotations

from k8s_data.adapt import count_values, intent_words, literal_class

__all__ = ["intent_literals", "intent_coverage"]


def intent_literals(intent: str) -> list[str]:
    """The distinct literals of `intent` (numbers, key=value pairs, quantities, images, constants, quoted or compound
    names), in order of first appearance."""
    seen: dict[str, None] = {}
    for word, quoted in intent_words(intent):
        if literal_class(word, quoted) is not None:
            seen.setdefault(word, None)
    return list(seen)


def intent_coverage(intent: str, yaml_text: str) -> float | None:
    """The share (0-1) of `intent_literals(intent)` that occur in the values of `yaml_text` (as
    `k8s_data.adapt.count_values` finds them: standing alone or starting a derived value); None when the intent
    states no literal."""
    literals = intent_literals(intent)
    if not literals:
        return None
    return sum(count_values(yaml_text, literal) > 0 for literal in literals) / len(literals)
