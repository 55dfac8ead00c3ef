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
turn `replicas: 6` into `replicas: image`. Only the value part of `key: value` lines is rewritten (block keys stay;
a flow mapping is one value). Measured on the validation split
(docs/retrieval.md, "Adapting the retrieved manifest"): `python bench/bench_adapt.py --max_examples 300`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator

__all__ = [
    "ADAPT_VERSION",
    "LITERAL_CLASSES",
    "GLOBAL_CLASSES",
    "literal_class",
    "intent_words",
    "intent_substitutions",
    "substitute_values",
    "add_namespace",
    "count_values",
    "requested_namespace",
    "NOT_A_NAMESPACE",
    "adapt_manifest",
]

#: bump when the rules change what adaptation writes: the dataset cache key of adapted patterns includes it
ADAPT_VERSION = 1

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
# "in the same namespace" is prose, not a name
NOT_A_NAMESPACE: frozenset[str] = frozenset(
    "same target given current your their its this that other appropriate desired specified relevant".split()
)
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


def intent_words(text: str) -> list[tuple[str, bool]]:
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
    a, b = intent_words(source_intent), intent_words(intent)
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


def _value_pattern(literals: Iterable[str]) -> re.Pattern[str]:
    """Occurrences of any of `literals` standing alone or starting a derived value (longest first)."""
    alternatives = "|".join(re.escape(k) for k in sorted(literals, key=len, reverse=True))
    return re.compile(r"(?<![A-Za-z0-9_.])(" + alternatives + r")(?![A-Za-z0-9_])")


def _values(yaml_text: str) -> Iterator[tuple[str, str, str]]:
    """`(prefix, key, value)` per line: the value part of a `key: value` line (key "" when the line has none)."""
    for line in yaml_text.split("\n"):
        match = _KEY_LINE.match(line)
        if match:
            key = match.group(1).rstrip(":").strip().lstrip("-").strip().strip("\"'")
            yield match.group(1), key, match.group(2)
        else:
            yield "", "", line


def substitute_values(yaml_text: str, subs: dict[str, str]) -> str:
    """`yaml_text` with every value occurrence of a key of `subs` replaced (keys of the YAML are kept).

    An occurrence must stand alone or start a derived value: `web` is replaced in `web`, `web-svc` and `app=web`,
    not in `webhook` or `my.web`. Longer literals win over their prefixes; each spot is replaced once. `image:`
    values take only image literals (a Deployment named after its image keeps its image when the name changes).
    """
    if not subs:
        return yaml_text
    pattern = _value_pattern(subs)
    images = {k: v for k, v in subs.items() if literal_class(k) == "image"}
    image_pattern = _value_pattern(images) if images else None
    out = []
    for prefix, key, value in _values(yaml_text):
        if key == "image":
            value = image_pattern.sub(lambda m: images[m.group(1)], value) if image_pattern else value
        else:
            value = pattern.sub(lambda m: subs[m.group(1)], value)
        out.append(prefix + value)
    return "\n".join(out)


def count_values(yaml_text: str, literal: str) -> int:
    """How many times `literal` occurs in the values of `yaml_text` (as `substitute_values` would replace it)."""
    pattern = _value_pattern([literal])
    return sum(len(pattern.findall(value)) for _, _, value in _values(yaml_text))


def _documents(lines: list[str]) -> list[tuple[int, int]]:
    """`(first line, end line)` of each YAML document of `lines` (split at `---` lines)."""
    bounds, start = [], 0
    for index, line in enumerate(lines):
        if line.startswith("---"):
            bounds.append((start, index))
            start = index + 1
    bounds.append((start, len(lines)))
    return [(a, b) for a, b in bounds if any(line.strip() and not line.startswith("#") for line in lines[a:b])]


def _top_level(lines: list[str], key: str) -> str:
    for line in lines:
        if line.startswith(f"{key}:"):
            return line.split(":", 1)[1].split("#", 1)[0].strip().strip("\"'")
    return ""


def requested_namespace(intent: str) -> str | None:
    """The namespace an intent names ("in the shop namespace"), None when it names none (or only prose such as
    "in the same namespace")."""
    names = [n for n in _NAMESPACE.findall(intent) if n not in NOT_A_NAMESPACE]
    return names[0] if names else None


def add_namespace(yaml_text: str, source_intent: str, intent: str) -> str:
    """Give the manifest the namespace `intent` names.

    When `source_intent` named another namespace, its `namespace:` values become the requested one. When it named
    none (its manifest then has none), `metadata.namespace` is added to the first namespaced document (not to a
    Namespace, ClusterRole or other cluster-scoped object, `k8s_scoring.rules.is_cluster_scoped`). A namespace the
    request does not mention is left as it is: whether to keep one is the model's (or the user's) call.
    """
    from k8s_scoring.rules import is_cluster_scoped

    wanted, had = requested_namespace(intent), requested_namespace(source_intent)
    if wanted is None or had == wanted:
        return yaml_text
    if had is not None:
        pattern = re.compile(r"^(\s*(?:-\s+)?namespace:\s*[\"']?)" + re.escape(had) + r"(?=[\"']?\s*(?:#.*)?$)")
        return "\n".join(pattern.sub(lambda m: m.group(1) + wanted, line) for line in yaml_text.split("\n"))
    lines = yaml_text.split("\n")
    for start, end in _documents(lines):
        doc = lines[start:end]
        if is_cluster_scoped(_top_level(doc, "apiVersion"), _top_level(doc, "kind")):
            continue
        if "metadata:" not in (line.rstrip() for line in doc):
            return yaml_text
        first = [line.rstrip() for line in doc].index("metadata:")
        block = first + 1
        while block < len(doc) and (doc[block].startswith(" ") or not doc[block].strip()):
            block += 1  # the metadata block ends at the next top-level line
        body = doc[first + 1 : block]
        if any(line.startswith("  namespace:") for line in body):
            return yaml_text
        for offset, line in enumerate(body):
            if line.startswith("  name: "):
                at = start + first + 1 + offset + 1
                return "\n".join([*lines[:at], f"  namespace: {wanted}", *lines[at:]])
        return yaml_text
    return yaml_text


def adapt_manifest(yaml_text: str, source_intent: str, intent: str) -> str:
    """The retrieved manifest `yaml_text` (written for `source_intent`) adapted to `intent`: literals swapped
    slot by slot (`intent_substitutions`, `substitute_values`; a number only where it occurs once in the manifest,
    since `3` may be replicas, a threshold and a history limit at once), the requested namespace given
    (`add_namespace`). Returns `yaml_text` unchanged when the intents share no slot."""
    if not yaml_text or not source_intent:
        return yaml_text
    subs = {
        old: new
        for old, new in intent_substitutions(source_intent, intent).items()
        if literal_class(old) != "number" or count_values(yaml_text, old) == 1
    }
    adapted = substitute_values(yaml_text, subs)
    return add_namespace(adapted, source_intent, intent)
