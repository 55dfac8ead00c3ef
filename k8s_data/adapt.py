"""Adapt a retrieved train manifest to the request: edit it by the differences between the two intents.

Retrieval answers "Define a Pod called constraints-cpu-demo-4, running vish/stress." with the manifest of the
nearest train intent, "Define a Pod named cpu-demo in the cpu-example namespace, running vish/stress.", whose
names are the train example's. Both intents state their literals in the same places, so aligning the two word
sequences (difflib) pairs each literal of the train intent with the request's literal in the same slot; the
manifest's values are rewritten by that map (`cpu-demo` -> `constraints-cpu-demo-4`, also inside derived values such
as `cpu-demo-ctr`), and the namespace the request names is added when the train manifest has none. This is the
analogy step of retrieve-and-edit (Hashimoto et al., 2018): no model, no target, only the two intents.

Rules are data (`LITERAL_CLASSES`): a literal is replaced only by a literal of the same class (a number by a number,
an image by an image), so misaligned phrases ("with 6 replicas" vs "in the default namespace, scaled to 3") do not
turn `replicas: 6` into `replicas: image`. Keys are never rewritten, only values. Measured on the validation split
(docs/retrieval.md, "Adapting the retrieved manifest"): `python bench/bench_adapt.py --max_examples 300`.
"""

from __future__ import annotations

import difflib
import logging
import re

logger = logging.getLogger(__name__)

__all__ = [
    "LITERAL_CLASSES",
    "GLOBAL_CLASSES",
    "literal_class",
    "intent_substitutions",
    "substitute_values",
    "add_namespace",
    "adapt_manifest",
]

# A word of an intent: literals may hold . _ : / @ = + - inside; punctuation is a word of its own.
_WORD = re.compile(r"([\"'])?([A-Za-z0-9][A-Za-z0-9._:/@=+\-]*[A-Za-z0-9]|[A-Za-z0-9]|[^\sA-Za-z0-9\"'])")
_COMPOUND = re.compile(r"[0-9._\-]")  # cpu-demo, web2, my.app: a name even without quotes
# (class, pattern a whole word must match), first match wins: a literal pairs only with one of the same class.
LITERAL_CLASSES: tuple[tuple[str, str], ...] = (
    ("number", r"[0-9]+"),  # replicas, ports
    ("pair", r"[A-Za-z0-9._/\-]+=[^\s]+"),  # selectors: app=web
    ("quantity", r"[0-9]+(?:\.[0-9]+)?[A-Za-z]{1,3}"),  # 5Gi, 500m, 30s
    ("image", r"[^\s]*[/:][^\s]*"),  # nginx:1.25, ghcr.io/org/app, kubernetes.io/tls
    ("constant", r"[A-Z][A-Z0-9_]+"),  # environment variable names
    ("name", r"(?=[^\s]*[a-z])(?:[a-z0-9][a-z0-9._\-]*)"),  # DNS-style names (lower case), keys, labels
)
# classes whose single literal per intent pairs even when the phrases around it do not align (numbers do not:
# replicas, ports and sizes share the class)
GLOBAL_CLASSES: tuple[str, ...] = ("quantity", "image", "pair", "constant")
_CLASSES = tuple((name, re.compile(pattern)) for name, pattern in LITERAL_CLASSES)
# "in the X namespace": how our intents (and people) name a namespace
_NAMESPACE = re.compile(r"\bin the ([a-z0-9][a-z0-9\-]*) namespace\b")
# a YAML line `key: value` / `- key: value`: only the value part is rewritten
_KEY_LINE = re.compile(r"^(\s*(?:-\s+)?(?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.\-/]+):)(.*)$")
_MIN_NAME_LENGTH = 3  # shorter plain words ("a", "to", "db") are too likely to match unrelated values


def literal_class(word: str, quoted: bool = False) -> str | None:
    """The class of a literal (`LITERAL_CLASSES`), or None for a word that is not one (prose, punctuation).

    A plain lower-case word ("web", "replicas") is a name only when the intent quotes it: unquoted, it is as
    likely prose, and prose pairs with prose ("using" -> "with") when phrasings differ."""
    for name, pattern in _CLASSES:
        if pattern.fullmatch(word):
            if name == "name" and (len(word) < _MIN_NAME_LENGTH or not (quoted or _COMPOUND.search(word))):
                return None
            return name
    return None


def _literals(text: str) -> list[tuple[str, bool]]:
    """The words of an intent, each with whether it stands in quotes."""
    return [(m.group(2), bool(m.group(1))) for m in _WORD.finditer(text)]


def intent_substitutions(source_intent: str, intent: str) -> dict[str, str]:
    """Map each literal of `source_intent` to the literal of `intent` in the same slot.

    The two word sequences are aligned (difflib); within each replaced span the literals of one class are paired
    in order when both sides hold the same number of them, otherwise that class is left alone. `key=value` pairs
    also map their parts.

    Example: `intent_substitutions('a Deployment "web" with 3 replicas', 'a Deployment "api" with 5 replicas')`
    -> `{"web": "api", "3": "5"}`.
    """
    a, b = _literals(source_intent), _literals(intent)
    subs: dict[str, str] = {}
    matcher = difflib.SequenceMatcher(a=[w for w, _ in a], b=[w for w, _ in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "replace":
            continue
        for name, _ in LITERAL_CLASSES:
            old = [w for w, q in a[i1:i2] if literal_class(w, q) == name]
            new = [w for w, q in b[j1:j2] if literal_class(w, q) == name]
            if len(old) != len(new):
                continue
            for x, y in zip(old, new):
                if x != y:
                    subs.setdefault(x, y)
    # a class each intent holds exactly one literal of pairs globally, however the phrases around it align
    for name in GLOBAL_CLASSES:
        old = {w for w, q in a if literal_class(w, q) == name}
        new = {w for w, q in b if literal_class(w, q) == name}
        if len(old) == 1 and len(new) == 1 and old != new:
            subs.setdefault(old.pop(), new.pop())
    for x, y in list(subs.items()):
        if "=" in x and "=" in y:
            for p, q in zip(x.split("=", 1), y.split("=", 1)):
                if p != q and len(p) >= _MIN_NAME_LENGTH:
                    subs.setdefault(p, q)
    return subs


def substitute_values(yaml_text: str, subs: dict[str, str]) -> str:
    """`yaml_text` with every value occurrence of a key of `subs` replaced (keys of the YAML are kept).

    An occurrence must stand alone or start a derived value: `web` is replaced in `web`, `web-svc` and `app=web`,
    not in `webhook` or `my.web`. Longer literals win over their prefixes; each spot is replaced once.
    """
    if not subs:
        return yaml_text
    alternatives = "|".join(re.escape(k) for k in sorted(subs, key=len, reverse=True))
    pattern = re.compile(r"(?<![A-Za-z0-9_.])(" + alternatives + r")(?![A-Za-z0-9_])")

    def replace(text: str) -> str:
        return pattern.sub(lambda m: subs[m.group(1)], text)

    out = []
    for line in yaml_text.split("\n"):
        match = _KEY_LINE.match(line)
        out.append(match.group(1) + replace(match.group(2)) if match else replace(line))
    return "\n".join(out)


def add_namespace(yaml_text: str, source_intent: str, intent: str) -> str:
    """Add `metadata.namespace` to the first document when `intent` names a namespace and `source_intent` names
    none (the train manifest then has none). A namespace the request does not mention is left as it is: whether
    to keep one is the model's (or the user's) call."""
    wanted, had = _NAMESPACE.findall(intent), _NAMESPACE.findall(source_intent)
    if not wanted or had:
        return yaml_text
    lines = yaml_text.split("\n")
    if "metadata:" not in (line.rstrip() for line in lines):
        return yaml_text
    first = [line.rstrip() for line in lines].index("metadata:")
    block = first + 1
    while block < len(lines) and (lines[block].startswith(" ") or not lines[block].strip()):
        block += 1  # the metadata block ends at the next top-level line
    content_seen = False
    for line in lines[:first]:
        if line.startswith("---") and content_seen:
            return yaml_text  # the first metadata block belongs to a later document
        content_seen |= bool(line.strip()) and not line.startswith(("#", "---"))
    body = lines[first + 1 : block]
    if any(line.startswith("  namespace:") for line in body):
        return yaml_text
    for offset, line in enumerate(body):
        if line.startswith("  name: "):
            at = first + 1 + offset + 1
            return "\n".join([*lines[:at], f"  namespace: {wanted[0]}", *lines[at:]])
    return yaml_text


def adapt_manifest(yaml_text: str, source_intent: str, intent: str) -> str:
    """The retrieved manifest `yaml_text` (written for `source_intent`) adapted to `intent`: literals swapped
    slot by slot (`intent_substitutions`, `substitute_values`), the requested namespace added (`add_namespace`).
    Returns `yaml_text` unchanged when the intents share no slot."""
    if not yaml_text or not source_intent:
        return yaml_text
    adapted = substitute_values(yaml_text, intent_substitutions(source_intent, intent))
    return add_namespace(adapted, source_intent, intent)
