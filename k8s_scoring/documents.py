"""Parse a YAML text into Kubernetes objects: split documents, expand ``kind: List``, enforce input limits.

This is the only place where YAML is parsed. Everything else in `k8s_scoring` works on the `ParsedInput` it returns,
so a text is parsed once however many scores are computed from it.

Bad input is rejected cheaply, before or while parsing (see `ParseLimits`): an oversized text is refused before the
parser sees it, deep flow nesting (``[[[[...`` , which libyaml parses in time linear in depth but slowly) is found by
a bracket scan, and YAML alias bombs ("billion laughs": aliases make a small text expand into a huge tree) are caught
by a node budget on the single walk that also measures nesting depth.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache

import yaml

logger = logging.getLogger(__name__)

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG, _MAP_TAG, _SEQ_TAG = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_RESOLVE_CACHE_SIZE = 65_536


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """`yaml.CSafeLoader` with a memoised implicit-tag resolver.

    libyaml calls back into Python's regex-based resolver for every scalar; manifests repeat the same keys and values
    (``name``, ``app``, ``containerPort``...), so caching the (value -> tag) decision removes most of that cost.
    The result is exactly `Resolver.resolve`'s: no path resolvers are registered on SafeLoader.
    """

    _resolve_cache: dict = {}

    def resolve(self, kind, value, implicit):  # noqa: D102 - same contract as yaml.resolver.BaseResolver.resolve
        key = (kind, value, implicit)
        tag = self._resolve_cache.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._resolve_cache) >= _RESOLVE_CACHE_SIZE:
                self._resolve_cache.clear()
            self._resolve_cache[key] = tag
        return tag

# Helm-only template names: a rendered manifest never contains them, while other Go templates that legitimately live
# in string values (Prometheus rules' `{{ $labels.x }}`, Argo's `{{inputs.parameters.x}}`) do not use them.
_HELM_RE = re.compile(
    r"\{\{-?\s*(?:[^}]*\.(?:Values|Release|Chart|Capabilities|Files|Template)\b|(?:include|toYaml|tpl)\s)"
)
_BRACKET_RE = re.compile(r"[\[\]{}]")
_CONTENT_LINE_RE = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)


@dataclass(frozen=True)
class ParseLimits:
    """Limits that keep parsing bounded in time and memory on hostile input."""

    max_chars: int = field(
        default=1_048_576, metadata={"help": "Longest accepted text, in characters (the corpus' largest is ~19 k)."}
    )
    max_depth: int = field(default=100, metadata={"help": "Deepest accepted nesting of mappings and sequences."})
    max_nodes: int = field(
        default=200_000,
        metadata={"help": "Most YAML nodes (keys, values, items) after alias expansion: stops alias bombs."},
    )
    max_documents: int = field(default=1_000, metadata={"help": "Most YAML documents in one stream."})


DEFAULT_LIMITS = ParseLimits()


class LimitExceeded(ValueError):
    """Raised internally when an input exceeds a `ParseLimits` bound."""


@dataclass(slots=True)
class KubeObject:
    """One Kubernetes object of the input.

    Args:
        doc_index: Index of its YAML document in the stream (empty documents count, as in `yaml.load_all`).
        data: The object mapping (``apiVersion``, ``kind``, ``metadata``, ...).
        lines: Content lines (not blank, not comment-only) of the object's YAML text.
        depth: Nesting depth of mappings/sequences (``{a: 1}`` has depth 1).
        item_index: Position inside a ``kind: List`` document, or `None` for a top-level object.
    """

    doc_index: int
    data: dict
    lines: int
    depth: int
    item_index: int | None = None

    @property
    def kind(self) -> str:
        return self.data["kind"]

    @property
    def api_version(self) -> str:
        return self.data["apiVersion"]

    @property
    def metadata(self) -> dict:
        meta = self.data.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        meta = self.metadata
        name = meta.get("name")
        return name if isinstance(name, str) and name else str(meta.get("generateName") or "")

    @property
    def namespace(self) -> str | None:
        namespace = self.metadata.get("namespace")
        return namespace if isinstance(namespace, str) and namespace else None


@dataclass(slots=True)
class ParsedInput:
    """The result of `parse`: the objects of a text, or the reasons it is invalid.

    `valid` is the project's single definition of YAML validity (`yaml_valid`): the text parses within the limits,
    has at least one non-empty document, no Helm template markers, and every document (and every ``List`` item) is a
    mapping with string ``apiVersion`` and ``kind`` and a ``metadata.name`` (``metadata.generateName`` accepted).
    """

    objects: list[KubeObject]
    errors: list[str]

    @property
    def valid(self) -> bool:
        return not self.errors and bool(self.objects)

    @property
    def total_lines(self) -> int:
        return sum(obj.lines for obj in self.objects)

    @property
    def max_depth(self) -> int:
        return max((obj.depth for obj in self.objects), default=0)


def _flow_depth(text: str) -> int:
    """Deepest nesting of flow brackets; quoted brackets count too, which only overestimates."""
    depth = deepest = 0
    for match in _BRACKET_RE.finditer(text):
        if match.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif depth:
            depth -= 1
    return deepest


def _measure(root: object, limits: ParseLimits, budget: list[int]) -> int:
    """Nesting depth of ``root``, walking iteratively and charging every entry to the shared node ``budget``.

    Aliases make PyYAML share sub-trees; the walk visits a shared sub-tree once per reference, so an alias bomb
    exhausts the budget after `limits.max_nodes` entries instead of expanding billions.
    """
    deepest = 0
    stack: list[tuple[object, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if depth > limits.max_depth:
                raise LimitExceeded(f"nesting deeper than {limits.max_depth} levels")
        values = node.values() if isinstance(node, dict) else node
        budget[0] -= len(node)  # type: ignore[arg-type]
        if budget[0] < 0:
            raise LimitExceeded(f"more than {limits.max_nodes} nodes after alias expansion")
        for value in values:  # type: ignore[union-attr]
            if isinstance(value, (dict, list)):
                stack.append((value, depth + 1))
    return deepest


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping has the same key twice. YAML 1.2 forbids it and ``kubectl`` refuses it ("mapping key already
    defined"); PyYAML (and libyaml) silently keep the last value, which would hide the first one from every check."""

    def __init__(self, node: yaml.Node, key_node: yaml.Node, key: object) -> None:
        first = next((k for k, _ in node.value if k is not key_node and getattr(k, "value", None) == key_node.value),
                     None)  # fmt: skip
        where = f" (first at line {first.start_mark.line + 1})" if first is not None else ""
        super().__init__(None, None, f"mapping key {key!r} already defined{where}", key_node.start_mark)


def _check_duplicate_keys(root: yaml.Node) -> None:
    """Raise `DuplicateKeyError` for a duplicate key anywhere in a composed node graph (the slow path's check).

    Compares key nodes by (tag, value) for scalars; merge keys (``<<``) are exempt, as YAML merge semantics allow
    explicit keys to override merged ones. Each node is visited once, so aliases cost nothing extra.
    """
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[tuple[str, str]] = set()
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    ident = (key_node.tag, key_node.value)
                    if ident in keys:
                        raise DuplicateKeyError(node, key_node, key_node.value)
                    keys.add(ident)
                stack.append(key_node)
                stack.append(value_node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


class _SlowPath(Exception):
    """The document uses a YAML feature the fast constructor leaves to PyYAML (merge keys, !!set, !!omap...)."""


def _construct(loader: yaml.SafeLoader, node: yaml.Node, limits: ParseLimits, memo: dict, depth: int = 1) -> tuple:
    """Build the Python value of ``node`` like `SafeConstructor`, returning ``(value, depth, expanded_size)``.

    The one traversal that also measures: nesting depth and the number of entries after alias expansion are computed
    bottom-up and memoised per node, so an alias bomb is measured (and rejected) in time linear in its text, and
    aliases keep sharing the same Python object, as in PyYAML. Plain strings, mappings and sequences (nearly all of a
    manifest) are built here; other scalars use PyYAML's own constructors; exotic collections take the slow path.
    """
    tag = node.tag
    if type(node) is yaml.ScalarNode:
        if tag == _STR_TAG:
            return node.value, 0, 1
        constructor = loader.yaml_constructors.get(tag) or loader.yaml_constructors[None]
        return constructor(loader, node), 0, 1
    cached = memo.get(id(node))
    if cached is not None:
        return cached
    if depth > limits.max_depth:
        raise LimitExceeded(f"nesting deeper than {limits.max_depth} levels")
    if type(node) is yaml.SequenceNode:
        if tag != _SEQ_TAG:
            raise _SlowPath(tag)
        items: list = []
        result = (items, 1, 1)
        memo[id(node)] = result  # before the children: a self-referencing alias sees the (shared) list
        deepest, size = 0, 1
        for child in node.value:
            value, child_depth, child_size = _construct(loader, child, limits, memo, depth + 1)
            items.append(value)
            deepest = child_depth if child_depth > deepest else deepest
            size += child_size
    else:
        if tag != _MAP_TAG:
            raise _SlowPath(tag)
        mapping: dict = {}
        result = (mapping, 1, 1)
        memo[id(node)] = result
        deepest, size = 0, 1
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _SlowPath("merge key")
            key, _, key_size = _construct(loader, key_node, limits, memo, depth + 1)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
                ) from None
            if key in mapping:  # kubectl: "mapping key already defined"; PyYAML silently keeps the last value
                raise DuplicateKeyError(node, key_node, key)
            value, child_depth, child_size = _construct(loader, value_node, limits, memo, depth + 1)
            mapping[key] = value
            deepest = child_depth if child_depth > deepest else deepest
            size += key_size + child_size
    if size > limits.max_nodes:
        raise LimitExceeded(f"more than {limits.max_nodes} nodes after alias expansion")
    result = (result[0], deepest + 1, size)
    memo[id(node)] = result
    return result


def _load_node(loader: yaml.SafeLoader, node: yaml.Node, limits: ParseLimits, budget: list[int]) -> tuple[object, int]:
    """``(value, depth)`` of a document node; falls back to PyYAML's constructor (+ a measuring walk) when needed."""
    try:
        value, depth, size = _construct(loader, node, limits, {})
    except _SlowPath:
        _check_duplicate_keys(node)
        value = loader.construct_document(node)
        return value, _measure(value, limits, budget) if isinstance(value, (dict, list)) else 0
    budget[0] -= size
    if budget[0] < 0:
        raise LimitExceeded(f"more than {limits.max_nodes} nodes after alias expansion")
    return value, depth


def _object_problem(data: object, where: str) -> str | None:
    """Why ``data`` is not a Kubernetes object, or `None` when it is one."""
    if not isinstance(data, dict):
        return f"{where}: root is a {type(data).__name__}, not a mapping"
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if not isinstance(api_version, str) or not api_version:
        return f"{where}: missing or non-string apiVersion"
    if not isinstance(kind, str) or not kind:
        return f"{where}: missing or non-string kind"
    return None


def _name_problem(data: dict, where: str) -> str | None:
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        return f"{where}: {data['kind']} has no metadata mapping"
    name = meta.get("name")
    if (isinstance(name, str) and name) or (isinstance(meta.get("generateName"), str) and meta["generateName"]):
        return None
    return f"{where}: {data['kind']} has no metadata.name"


def _is_list(data: dict) -> bool:
    return data["kind"].endswith("List") and isinstance(data.get("items"), list)


def _items_node(node: yaml.Node) -> list[yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "items" and isinstance(value, yaml.SequenceNode):
                return value.value
    return None


def parse(text: str, limits: ParseLimits = DEFAULT_LIMITS) -> ParsedInput:
    """Parse a YAML text into Kubernetes objects; never raises.

    Args:
        text: One or more YAML documents (``---`` separated). Bytes are decoded as UTF-8.
        limits: Bounds on size, depth, alias expansion and document count.

    Returns:
        `ParsedInput` with one `KubeObject` per object (``List`` items expanded) and, when the input is invalid, the
        reasons in `errors` (then `objects` is empty).
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as err:
            return ParsedInput([], [f"input is not UTF-8 text: {err}"])
    if not isinstance(text, str):
        return ParsedInput([], [f"input is a {type(text).__name__}, not a string"])
    if len(text) > limits.max_chars:
        return ParsedInput([], [f"input has {len(text)} characters, more than the limit of {limits.max_chars}"])
    if "{{" in text and _HELM_RE.search(text):
        return ParsedInput([], ["input is an unrendered Helm template ({{ .Values ... }}); render it first"])
    if text.count("[") + text.count("{") > limits.max_depth and _flow_depth(text) > limits.max_depth:
        return ParsedInput([], [f"flow nesting deeper than {limits.max_depth} levels"])
    try:
        return _parse_documents(text, limits)
    except LimitExceeded as err:
        return ParsedInput([], [f"input rejected: {err}"])
    except yaml.YAMLError as err:
        return ParsedInput([], [f"YAML parse error: {' '.join(str(err).split())}"])
    except Exception as err:  # noqa: BLE001 - the constructor raises ValueError/OverflowError on e.g. bad timestamps
        return ParsedInput([], [f"YAML parse error: {type(err).__name__}: {err}"])


def _parse_documents(text: str, limits: ParseLimits) -> ParsedInput:
    def span_lines(node: yaml.Node) -> int:
        # content lines (first non-blank character is not '#') of the node's own text
        start = node.start_mark.index - node.start_mark.column  # from the start of its first line
        return max(len(_CONTENT_LINE_RE.findall(text, start, node.end_mark.index)), 1)

    objects: list[KubeObject] = []
    errors: list[str] = []
    budget = [limits.max_nodes]
    loader = _Loader(text)
    try:
        doc_index = -1
        while loader.check_node():
            doc_index += 1
            if doc_index >= limits.max_documents:
                raise LimitExceeded(f"more than {limits.max_documents} documents")
            node = loader.get_node()
            data, depth = _load_node(loader, node, limits, budget)
            if data is None:  # empty or comment-only document: skipped
                continue
            where = f"document {doc_index}"
            if problem := _object_problem(data, where):
                errors.append(problem)
                continue
            if _is_list(data):
                item_nodes = _items_node(node) or []
                for item_index, item in enumerate(data["items"]):
                    item_where = f"{where} item {item_index}"
                    if problem := (_object_problem(item, item_where) or _name_problem(item, item_where)):
                        errors.append(problem)
                        continue
                    item_lines = span_lines(item_nodes[item_index]) if item_index < len(item_nodes) else 1
                    item_depth = _measure(item, limits, [limits.max_nodes])
                    objects.append(KubeObject(doc_index, item, item_lines, item_depth, item_index))
                continue
            if problem := _name_problem(data, where):
                errors.append(problem)
                continue
            objects.append(KubeObject(doc_index, data, span_lines(node), depth))
    finally:
        loader.dispose()
    if errors:
        return ParsedInput([], errors)
    if not objects:
        return ParsedInput([], ["input has no Kubernetes objects (empty, comment-only or an empty List)"])
    return ParsedInput(objects, [])


@lru_cache(maxsize=256)
def parse_cached(text: str) -> ParsedInput:
    """`parse` memoised on the text; for references, which RL scores against k samples each. Do not mutate."""
    return parse(text)


@lru_cache(maxsize=16)
def parse_recent(text: str) -> ParsedInput:
    """`parse` with a small memo, so ``analyze(t)``, ``validate(t)`` and ``complexity(t)`` on one text parse once."""
    return parse(text)


def parse_any(text: object) -> ParsedInput:
    """`parse_recent` for strings; anything else (bytes, junk) goes through `parse` uncached."""
    return parse_recent(text) if isinstance(text, str) else parse(text)  # type: ignore[arg-type]
