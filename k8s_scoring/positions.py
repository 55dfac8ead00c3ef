"""Line and column of objects and fields in a YAML text, for reports that point at the offending place (SARIF, JUnit).

Positions come from the node marks of PyYAML's composer (libyaml when available): it is the same parser that
`documents.parse` uses, so document numbering (empty documents count, ``kind: List`` items) is the same by
construction. Composing builds nodes only, so this costs a fraction of a parse, and it runs only in `k8s-lint`
when a format needs positions; `analyze` never pays for it.

Where a check names a field (`FIELD_PATHS`), the report points at the deepest part of that field present in the
object: the field itself when set (``hostNetwork: true``), else its nearest existing parent (the container of a
missing ``livenessProbe``), else the object.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import yaml

from .podspec import template_path

logger = logging.getLogger(__name__)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Where each check looks, as data: ("object" | "pod" | "container", keys). "pod" keys start at the pod spec
# (`podspec.template_path` + "spec"), "container" keys at the failing container (named in the check's detail).
# A check id missing here points at its object.
FIELD_PATHS: dict[str, tuple[str, tuple[str, ...]]] = {
    "bp.liveness_probe": ("container", ("livenessProbe",)),
    "bp.readiness_probe": ("container", ("readinessProbe",)),
    "bp.cpu_requests": ("container", ("resources", "requests", "cpu")),
    "bp.memory_requests": ("container", ("resources", "requests", "memory")),
    "bp.cpu_limits": ("container", ("resources", "limits", "cpu")),
    "bp.memory_limits": ("container", ("resources", "limits", "memory")),
    "bp.image_tag_pinned": ("container", ("image",)),
    "bp.min_replicas": ("object", ("spec", "replicas")),
    "bp.pod_anti_affinity_or_spread": ("pod", ("affinity", "podAntiAffinity")),
    "bp.selector_matches_labels": ("object", ("spec", "selector")),
    "bp.explicit_namespace": ("object", ("metadata", "namespace")),
    "sec.no_privileged": ("container", ("securityContext", "privileged")),
    "sec.no_added_capabilities": ("container", ("securityContext", "capabilities", "add")),
    "sec.no_host_network": ("pod", ("hostNetwork",)),
    "sec.no_host_pid": ("pod", ("hostPID",)),
    "sec.no_host_ipc": ("pod", ("hostIPC",)),
    "sec.no_host_path": ("pod", ("volumes",)),
    "sec.run_as_non_root": ("container", ("securityContext", "runAsNonRoot")),
    "sec.no_privilege_escalation": ("container", ("securityContext", "allowPrivilegeEscalation")),
    "sec.no_plaintext_secret_env": ("container", ("env",)),
    "sec.read_only_root_fs": ("container", ("securityContext", "readOnlyRootFilesystem")),
    "sec.drop_all_capabilities": ("container", ("securityContext", "capabilities", "drop")),
    "sec.no_host_port": ("container", ("ports",)),
    "sec.seccomp_runtime_default": ("container", ("securityContext", "seccompProfile")),
    "sec.no_automount_sa_token": ("pod", ("automountServiceAccountToken",)),
}

# `rules._container_check` details start with the container's label: `container "web": no livenessProbe`.
_CONTAINER_DETAIL_RE = re.compile(r'^(container|initContainer|ephemeralContainer) "(.*?)": ')
# A validity issue's path (`validity.ValidityIssue.path`): ``spec.ports[0].port`` -> "spec", "ports", 0, "port".
_PATH_TOKEN_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_ROLE_KEYS = {
    "container": "containers", "initContainer": "initContainers", "ephemeralContainer": "ephemeralContainers"
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column in the input text."""

    line: int
    column: int


def _position(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _child(node: yaml.Node | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    """``(key node, value node)`` of ``key`` in a mapping node, else `None`."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return key_node, value_node
    return None


def _deepest(node: yaml.Node, keys: tuple[str, ...]) -> tuple[yaml.Node, int]:
    """The node reached by following ``keys`` as far as they exist, and how many were followed.

    A followed key points at its key node (``replicas:`` rather than the ``1`` after it), as linters report.
    """
    found, depth = node, 0
    current: yaml.Node | None = node
    for key in keys:
        pair = _child(current, key)
        if pair is None:
            break
        found, current = pair[0], pair[1]
        depth += 1
    return found, depth


class ObjectLocator:
    """Positions inside one object's node (a document root or a ``List`` item)."""

    def __init__(self, node: yaml.Node, data: dict | None = None) -> None:
        self.node = node
        self.data = data

    @property
    def position(self) -> Position:
        """Where the object starts."""
        return _position(self.node)

    def _pod_spec(self) -> yaml.Node | None:
        """The pod spec node, found with the judge's own traversal (`podspec.template_path`) on the object data."""
        if not isinstance(self.data, dict) or not isinstance(self.data.get("kind"), str):
            return None
        path = template_path(self.data)
        return None if path is None else _value_node(self.node, (*path, "spec"))

    def _container(self, role: str, name: str) -> yaml.Node | None:
        pod = self._pod_spec()
        items = _child(pod, _ROLE_KEYS[role])
        if items is None or not isinstance(items[1], yaml.SequenceNode):
            return None
        for item in items[1].value:
            name_pair = _child(item, "name")
            if name_pair is not None and isinstance(name_pair[1], yaml.ScalarNode) and name_pair[1].value == name:
                return item
        return None

    def locate(self, check_id: str, detail: str | None = None) -> Position:
        """Where a check's finding is: the checked field, its nearest existing parent, or the object.

        Args:
            check_id: The check's id (`FIELD_PATHS` says where it looks).
            detail: One detail of the failure; for container checks it names the container.
        """
        where = FIELD_PATHS.get(check_id)
        if where is None:
            return self.position
        base, keys = where
        start: yaml.Node | None = self.node
        if base == "pod":
            start = self._pod_spec()
        elif base == "container":
            match = _CONTAINER_DETAIL_RE.match(detail or "")
            start = self._container(match.group(1), match.group(2)) if match else None
            if start is None:  # no container named: point at the pod spec, else at the object
                start = self._pod_spec()
                keys = ()
        if start is None:
            return self.position
        return _position(_deepest(start, keys)[0])

    def locate_path(self, path: str) -> Position:
        """Where a validity issue is: the field at ``path`` (``spec.ports[0].port``, the key for a mapping entry),
        else its nearest existing parent, else the object (``<root>``).

        Keys holding dots (``app.kubernetes.io/name``) cannot be told apart from nesting in such a path: the
        lookup stops at the parent mapping, which is still the right neighbourhood.
        """
        found: yaml.Node = self.node
        current: yaml.Node | None = self.node
        for token in _path_tokens(path):
            if isinstance(token, int):
                if not isinstance(current, yaml.SequenceNode) or token >= len(current.value):
                    break
                current = current.value[token]
                found = current
            else:
                pair = _child(current, token)
                if pair is None:
                    break
                found, current = pair
        return _position(found)


def _path_tokens(path: str) -> list[str | int]:
    """``a.b[0].c`` -> ``["a", "b", 0, "c"]``; ``<root>`` -> ``[]``."""
    if path in ("", "<root>"):
        return []
    return [int(index) if index else key for key, index in _PATH_TOKEN_RE.findall(path)]


def _value_node(node: yaml.Node, keys: tuple[str, ...]) -> yaml.Node | None:
    current: yaml.Node | None = node
    for key in keys:
        pair = _child(current, key)
        if pair is None:
            return None
        current = pair[1]
    return current


def locate_objects(text: str) -> dict[tuple[int, int | None], ObjectLocator]:
    """``(doc_index, item_index) -> ObjectLocator`` for every mapping document (and ``List`` item) of ``text``.

    Never raises: a text that does not compose gives an empty dict (such a text is invalid anyway, and reports
    place its errors at line 1).

    Args:
        text: The YAML text that `analyze` checked.
    """
    locators: dict[tuple[int, int | None], ObjectLocator] = {}
    try:
        loader = _Loader(text)
        try:
            doc_index = -1
            while loader.check_node():
                doc_index += 1
                node = loader.get_node()
                if not isinstance(node, yaml.MappingNode):
                    continue
                locators[(doc_index, None)] = ObjectLocator(node)
                items = _child(node, "items")
                if items is not None and isinstance(items[1], yaml.SequenceNode):
                    for item_index, item in enumerate(items[1].value):
                        locators[(doc_index, item_index)] = ObjectLocator(item)
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        logger.debug("positions unavailable: %s", err)
    return locators
