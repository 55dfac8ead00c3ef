"""Deterministic, minimal repair of Kubernetes manifests: make failing checks pass where a safe default exists.

`repair(yaml_text)` adds the fields that the checks of `docs/k8s_checks.md` ask for and that have a default. Every
rule has a level (`RepairRule.level`, with the reason in `RepairRule.reason`): `RepairConfig(level="safe")`, the
default, applies only edits that cannot stop a working pod from starting or running whatever the image (CPU/memory
requests, CPU limits, a missing selector, a soft topology spread); `level="strict"` adds the hardening that can break
some images (runAsNonRoot, readOnlyRootFilesystem, drop ALL, allowPrivilegeEscalation false, seccomp RuntimeDefault,
memory limits, TCP probes on a declared port, `automountServiceAccountToken: false`). It never
changes or removes a value that is already there (images, names, replicas, ports, env, an explicit `false`, ...): the
repaired document always contains the original one, key for key and value for value (lists may only grow at the end).

How it works:

1. The judge (`k8s_scoring.analyze`) says which checks fail for which object.
2. Each failing check that has a rule in `REPAIR_RULES` (check id -> fixer, rules as data) gets its fixer applied to a
   ruamel.yaml round-trip tree of the object's document, so key order, comments, quoting and the document's own
   indentation are kept. Documents with no change are copied byte for byte.
3. The result is re-judged. An edit is kept only if the whole output stays valid (YAML and, when the input was
   schema-valid, schema), no check that passed (or was n/a) starts failing, the original is still contained in the
   result, and the check that the edit was made for now passes. Edits that do not make their check pass (for example
   a probe that can be added to only one of two containers) are dropped and the rest is retried.

Checks without a safe default are listed in `NOT_REPAIRED` with the reason (e.g. an image tag or a namespace is the
user's decision). Invalid input (not YAML, or not Kubernetes objects) is returned unchanged with no changes; the
function never raises.

Example:

```python
>>> from k8s_scoring.repair import repair
>>> fixed, changes = repair(open("deploy.yaml").read())
>>> [(c.check_id, c.path) for c in changes][:2]
[('sec.no_privilege_escalation', 'spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation'), ...]
```
"""

from __future__ import annotations

import collections
import io
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelYAMLError
from ruamel.yaml.tokens import CommentToken

from .analysis import analyze
from .podspec import PodView, pod_view
from .validity import validate

logger = logging.getLogger(__name__)

try:
    _SafeLoader = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _SafeLoader = yaml.SafeLoader

__all__ = ["Change", "NOT_REPAIRED", "REPAIR_LEVELS", "REPAIR_RULES", "RepairConfig", "RepairRule", "repair"]

# Repair levels, from the most to the least conservative; a level includes the rules of the levels before it.
REPAIR_LEVELS = ("safe", "strict")

PathPart = str | int


# ----------------------------------------------------------------------------------------------------------- config
@dataclass(frozen=True)
class RepairConfig:
    """The defaults that `repair` writes. The values are starting points, printed with every change so a user can
    tune them; they are deliberately small (a sidecar-sized container) so that they never ask for more than a
    typical node has."""

    cpu_request: str = field(default="100m", metadata={"help": "resources.requests.cpu added where missing."})
    memory_request: str = field(default="128Mi", metadata={"help": "resources.requests.memory added where missing."})
    cpu_limit: str = field(default="500m", metadata={"help": "resources.limits.cpu added where missing."})
    memory_limit: str = field(default="512Mi", metadata={"help": "resources.limits.memory added where missing."})
    probe_initial_delay_seconds: int = field(
        default=10, metadata={"help": "initialDelaySeconds of an added tcpSocket livenessProbe."}
    )
    probe_period_seconds: int = field(default=10, metadata={"help": "periodSeconds of added probes."})
    run_as_user: int | None = field(
        default=None,
        metadata={
            "help": "If set, also add this pod-level runAsUser next to runAsNonRoot: true. Off by default: a UID is a "
            "guess about the image (file ownership, /etc/passwd), while runAsNonRoot alone only asserts."
        },
    )
    checks: frozenset[str] | None = field(
        default=None, metadata={"help": "Repair only these check ids (None = every rule in REPAIR_RULES)."}
    )
    max_rounds: int = field(default=8, metadata={"help": "Re-judge rounds before giving up on the remaining edits."})
    level: str = field(
        default="safe",
        metadata={
            "help": "`safe`: only edits that cannot stop a working pod from starting or running, whatever the image "
            "(requests, CPU limits, a missing selector, a soft spread). `strict`: also the hardening that may break "
            "some images (runAsNonRoot, readOnlyRootFilesystem, drop ALL, allowPrivilegeEscalation, seccomp, memory "
            "limits, probes, automount off); see each rule's `RepairRule.reason`."
        },
    )

    def __post_init__(self) -> None:
        if self.level not in REPAIR_LEVELS:
            raise ValueError(f"RepairConfig.level must be one of {', '.join(REPAIR_LEVELS)}, got {self.level!r}")


# ----------------------------------------------------------------------------------------------------------- change
@dataclass(frozen=True)
class Change:
    """One edit made by `repair`.

    Args:
        check_id: the id of the check (docs/k8s_checks.md) that the edit makes pass.
        doc_index: index of the object's document, as `k8s_scoring.analyze` reports it.
        kind: the object's kind.
        name: the object's `metadata.name`.
        path: where the edit was made, relative to the document root, e.g.
            `spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation`.
        description: what was set, in words (with the value).
    """

    check_id: str
    doc_index: int
    kind: str
    name: str
    path: str
    description: str

    @property
    def object(self) -> str:
        """`kind/name` of the edited object (the `.object` of docs/interfaces.md)."""
        return f"{self.kind}/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "doc_index": self.doc_index,
            "object": self.object,
            "kind": self.kind,
            "name": self.name,
            "path": self.path,
            "description": self.description,
        }


# ------------------------------------------------------------------------------------------- ruamel tree helpers
def _format_path(parts: list[PathPart] | tuple[PathPart, ...]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _trailing_comment_slot(node: Any) -> tuple[Any, Any, int] | None:
    """Find the comment token that closes the block `node` (ruamel attaches the comment lines that follow a block to
    the deepest last scalar in it). Returns (holder, key, index in holder.ca.items[key]) or None."""
    chain: list[tuple[Any, Any]] = []
    while isinstance(node, (CommentedMap, CommentedSeq)) and len(node) > 0:
        key = next(reversed(node)) if isinstance(node, CommentedMap) else len(node) - 1
        chain.append((node, key))
        node = node[key]
    for holder, key in reversed(chain):
        slot = 2 if isinstance(holder, CommentedMap) else 0
        entry = holder.ca.items.get(key)
        if entry and len(entry) > slot and isinstance(entry[slot], CommentToken):
            return holder, key, slot
    return None


def _append(mapping: CommentedMap, key: str, value: Any) -> None:
    """Add `key: value` at the end of `mapping`, moving the full-line comments that followed the mapping's last
    entry so that they still follow the mapping (otherwise they would end up above the new key)."""
    was_empty = len(mapping) == 0
    slot = _trailing_comment_slot(mapping) if not mapping.fa.flow_style() else None
    mapping[key] = value
    if was_empty:
        mapping.fa.set_block_style()
    if slot is None:
        return
    holder, hkey, idx = slot
    token = holder.ca.items[hkey][idx]
    text = token.value
    if text.startswith("#"):  # an end-of-line comment stays where it is
        keep, _, rest = text.partition("\n")
        keep += "\n"
    else:
        keep, rest = None, text[1:] if text.startswith("\n") else text
    if not rest:
        return
    if keep is None:
        holder.ca.items[hkey][idx] = None
    else:
        token.value = keep
    target = _trailing_holder(mapping)
    if target is None:
        return
    new_holder, new_key, new_idx = target
    entry = new_holder.ca.items.setdefault(new_key, [None, None, None, None])
    entry[new_idx] = CommentToken("\n" + rest, token.start_mark, None)


def _trailing_holder(node: Any) -> tuple[Any, Any, int] | None:
    """The deepest last (holder, key, slot) of a block, where a trailing comment can be attached."""
    last: tuple[Any, Any, int] | None = None
    while isinstance(node, (CommentedMap, CommentedSeq)) and len(node) > 0:
        if isinstance(node, CommentedMap):
            key = next(reversed(node))
            last = (node, key, 2)
        else:
            key = len(node) - 1
            last = (node, key, 0)
        node = node[key]
    return last


def _block_map(*items: tuple[str, Any]) -> CommentedMap:
    m = CommentedMap()
    for k, v in items:
        m[k] = v
    return m


def _child_map(parent: CommentedMap, key: str) -> CommentedMap | None:
    """`parent[key]` as a mapping, created (appended) if missing or null; None if it holds something else."""
    value = parent.get(key)
    if value is None:
        if key in parent:  # `key:` with no value: a null the user did not mean as a value
            del parent[key]
        value = CommentedMap()
        _append(parent, key, value)
        return value
    return value if isinstance(value, CommentedMap) else None


def _is_true(value: Any) -> bool:
    return value is True


def _quantity(value: Any) -> Decimal | None:
    """A Kubernetes resource quantity ("250m", "1.5", 2, "64Mi", "1e3") as a number; None if not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if not isinstance(value, str):
        return None
    match = _QUANTITY_RE.match(value.strip())
    if not match:
        return None
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        return None
    return number * _QUANTITY_SUFFIX[match.group(2) or ""]


_QUANTITY_RE = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$")
_QUANTITY_SUFFIX = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


# --------------------------------------------------------------------------------------------- object locations
# Which containers a check reads (docs/k8s_checks.md): the fixer of a check edits exactly that scope.
_APP = "app"
_APP_AND_INIT = "app+init"
_ALL_CONTAINERS = "all"


def _path_to(root: Any, node: Any, max_depth: int = 6) -> tuple[PathPart, ...] | None:
    """The path from `root` to the very object `node` (identity), searching mappings and lists breadth-first."""
    frontier: list[tuple[Any, tuple[PathPart, ...]]] = [(root, ())]
    for _ in range(max_depth + 1):
        next_frontier = []
        for current, path in frontier:
            if current is node:
                return path
            if isinstance(current, dict):
                next_frontier.extend((v, (*path, k)) for k, v in current.items() if isinstance(v, (dict, list)))
            elif isinstance(current, list):
                next_frontier.extend((v, (*path, i)) for i, v in enumerate(current) if isinstance(v, (dict, list)))
        frontier = next_frontier
    return None


@dataclass
class _Target:
    """One Kubernetes object of a round-trip document, with its pod spec located (None for non-workloads)."""

    obj: CommentedMap
    prefix: tuple[PathPart, ...]  # path of the object inside its document ((), or ("items", i) in a List)
    pod: PodView | None
    pod_spec_path: tuple[PathPart, ...]

    @property
    def pod_spec(self) -> CommentedMap | None:
        return self.pod.spec if self.pod is not None else None

    def containers(self, scope: str) -> Iterator[tuple[CommentedMap, tuple[PathPart, ...]]]:
        """The containers of a check scope (`app`, `app+init`, `all`) that are mappings, with their paths."""
        if self.pod is None:
            return
        for container in self.pod.scope(scope):
            group = {"container": "containers", "initContainer": "initContainers"}.get(
                container.role, "ephemeralContainers"
            )
            items = self.pod.spec.get(group)
            for i, item in enumerate(items if isinstance(items, list) else []):
                if item is container.data and isinstance(item, CommentedMap):
                    yield item, (*self.pod_spec_path, group, i)

    def path(self, *parts: PathPart) -> str:
        return _format_path((*self.prefix, *parts))


def _locate(obj: CommentedMap, prefix: tuple[PathPart, ...]) -> _Target:
    """Locate the pod spec with the judge's own traversal (`k8s_scoring.podspec.pod_view`), which works on ruamel's
    maps since they are dicts; its path is found by identity so the location rules stay written once."""
    kind = obj.get("kind")
    pod = pod_view(obj) if isinstance(kind, str) else None
    spec_path = _path_to(obj, pod.spec) if pod is not None else None
    if pod is None or spec_path is None or not isinstance(pod.spec, CommentedMap):
        return _Target(obj, prefix, None, ())
    return _Target(obj, prefix, pod, spec_path)


# ---------------------------------------------------------------------------------------------------- the fixers
Edit = tuple[str, str]  # (path, description)
Fixer = Callable[[_Target, RepairConfig], list[Edit]]


def _container_name(container: CommentedMap) -> str:
    return str(container.get("name", "?"))


def _set_container_security(key: str, value: Any, scope: str, skip: Callable[[CommentedMap], bool]):
    """A fixer setting `securityContext.<key>: value` on every container of `scope` that has no value for it."""

    def fixer(target: _Target, config: RepairConfig) -> list[Edit]:
        edits: list[Edit] = []
        for container, cpath in target.containers(scope):
            current = container.get("securityContext")
            if isinstance(current, CommentedMap) and key in current:
                continue  # an explicit value, whatever it is, is the user's
            if skip(container):
                continue
            sc = _child_map(container, "securityContext")
            if sc is None:
                continue
            _append(sc, key, value)
            edits.append(
                (
                    target.path(*cpath, "securityContext", key),
                    f"set securityContext.{key}: {str(value).lower()} on container '{_container_name(container)}'",
                )
            )
        return edits

    return fixer


def _privileged_or_sys_admin(container: CommentedMap) -> bool:
    """The API server rejects allowPrivilegeEscalation: false next to privileged: true or CAP_SYS_ADMIN."""
    sc = container.get("securityContext")
    if not isinstance(sc, CommentedMap):
        return False
    if _is_true(sc.get("privileged")):
        return True
    caps = sc.get("capabilities")
    added = caps.get("add") if isinstance(caps, CommentedMap) else None
    return isinstance(added, list) and any(str(c).upper() in ("SYS_ADMIN", "CAP_SYS_ADMIN") for c in added)


def _never(container: CommentedMap) -> bool:
    return False


def _fix_drop_all(target: _Target, config: RepairConfig) -> list[Edit]:
    edits: list[Edit] = []
    for container, cpath in target.containers(_ALL_CONTAINERS):
        sc = container.get("securityContext")
        caps = sc.get("capabilities") if isinstance(sc, CommentedMap) else None
        drop = caps.get("drop") if isinstance(caps, CommentedMap) else None
        if isinstance(drop, list) and any(str(c).upper() == "ALL" for c in drop):
            continue
        if drop is not None and not isinstance(drop, list):
            continue
        if isinstance(drop, list):  # keep the user's entries, add ALL after them
            drop.append("ALL")
            where = target.path(*cpath, "securityContext", "capabilities", "drop", len(drop) - 1)
            edits.append((where, f"added ALL to capabilities.drop of container '{_container_name(container)}'"))
            continue
        sc = _child_map(container, "securityContext")
        caps = _child_map(sc, "capabilities") if sc is not None else None
        if caps is None:
            continue
        seq = CommentedSeq(["ALL"])
        seq.fa.set_block_style()
        _append(caps, "drop", seq)
        edits.append(
            (
                target.path(*cpath, "securityContext", "capabilities", "drop"),
                f"set securityContext.capabilities.drop: [ALL] on container '{_container_name(container)}'",
            )
        )
    return edits


def _fix_run_as_non_root(target: _Target, config: RepairConfig) -> list[Edit]:
    if target.pod_spec is None:
        return []
    pod_sc = target.pod_spec.get("securityContext")
    if isinstance(pod_sc, CommentedMap) and ("runAsNonRoot" in pod_sc or pod_sc.get("runAsUser") == 0):
        return []  # an explicit choice (runAsNonRoot: false, or root asked for by UID)
    for container, _ in target.containers(_ALL_CONTAINERS):
        sc = container.get("securityContext")
        if isinstance(sc, CommentedMap) and (sc.get("runAsNonRoot") is False or sc.get("runAsUser") == 0):
            return []  # a container asks for root explicitly: the pod-level default cannot make the check pass
    sc = _child_map(target.pod_spec, "securityContext")
    if sc is None:
        return []
    _append(sc, "runAsNonRoot", True)
    where = target.path(*target.pod_spec_path, "securityContext", "runAsNonRoot")
    edits = [(where, "set pod securityContext.runAsNonRoot: true")]
    if config.run_as_user is not None and "runAsUser" not in sc:
        _append(sc, "runAsUser", config.run_as_user)
        edits.append(
            (
                target.path(*target.pod_spec_path, "securityContext", "runAsUser"),
                f"set pod securityContext.runAsUser: {config.run_as_user}",
            )
        )
    return edits


def _fix_seccomp(target: _Target, config: RepairConfig) -> list[Edit]:
    if target.pod_spec is None:
        return []
    pod_sc = target.pod_spec.get("securityContext")
    if isinstance(pod_sc, CommentedMap) and "seccompProfile" in pod_sc:
        return []
    sc = _child_map(target.pod_spec, "securityContext")
    if sc is None:
        return []
    _append(sc, "seccompProfile", _block_map(("type", "RuntimeDefault")))
    return [
        (
            target.path(*target.pod_spec_path, "securityContext", "seccompProfile", "type"),
            "set pod securityContext.seccompProfile.type: RuntimeDefault",
        )
    ]


def _fix_automount(target: _Target, config: RepairConfig) -> list[Edit]:
    spec = target.pod_spec
    if spec is None or "automountServiceAccountToken" in spec:
        return []
    account = spec.get("serviceAccountName", spec.get("serviceAccount"))
    if account not in (None, "", "default"):
        return []  # a dedicated service account is asked for: the pod presumably talks to the API with its token
    _append(spec, "automountServiceAccountToken", False)
    return [
        (
            target.path(*target.pod_spec_path, "automountServiceAccountToken"),
            "set automountServiceAccountToken: false (the pod uses no dedicated service account)",
        )
    ]


def _resources_fixer(section: str, resource: str):
    """Set resources.<section>.<resource> where missing, keeping request ≤ limit (the API server's rule)."""
    other = "limits" if section == "requests" else "requests"

    def fixer(target: _Target, config: RepairConfig) -> list[Edit]:
        default = getattr(config, f"{resource}_{'request' if section == 'requests' else 'limit'}")
        edits: list[Edit] = []
        for container, cpath in target.containers(_APP_AND_INIT):
            resources = container.get("resources")
            current = resources.get(section) if isinstance(resources, CommentedMap) else None
            if isinstance(current, CommentedMap) and current.get(resource) is not None:
                continue
            if current is not None and not isinstance(current, CommentedMap):
                continue
            paired = resources.get(other) if isinstance(resources, CommentedMap) else None
            paired_value = paired.get(resource) if isinstance(paired, CommentedMap) else None
            value: Any = default
            if paired_value is not None:
                paired_q, default_q = _quantity(paired_value), _quantity(default)
                if paired_q is None or default_q is None:
                    continue
                if (section == "requests" and paired_q < default_q) or (section == "limits" and paired_q > default_q):
                    value = paired_value  # request = limit (what Kubernetes itself defaults a request to)
            resources = _child_map(container, "resources")
            target_map = _child_map(resources, section) if resources is not None else None
            if target_map is None:
                continue
            if resource in target_map:  # `cpu:` with a null value
                del target_map[resource]
            _append(target_map, resource, value)
            edits.append(
                (
                    target.path(*cpath, "resources", section, resource),
                    f"set resources.{section}.{resource}: {value} on container '{_container_name(container)}'",
                )
            )
        return edits

    return fixer


def _first_tcp_port(container: CommentedMap) -> int | None:
    ports = container.get("ports")
    if not isinstance(ports, list):
        return None
    for port in ports:
        if not isinstance(port, CommentedMap):
            continue
        number = port.get("containerPort")
        if isinstance(number, int) and not isinstance(number, bool) and str(port.get("protocol", "TCP")) == "TCP":
            return number
    return None


def _probe_fixer(probe: str):
    """Add a tcpSocket probe on the first TCP containerPort of every app container that has none."""

    def fixer(target: _Target, config: RepairConfig) -> list[Edit]:
        edits: list[Edit] = []
        for container, cpath in target.containers(_APP):
            if container.get(probe) is not None:
                continue
            port = _first_tcp_port(container)
            if port is None:
                continue  # no port: nothing meaningful to probe without knowing the application
            if probe in container:
                del container[probe]
            items: list[tuple[str, Any]] = [("tcpSocket", _block_map(("port", port)))]
            if probe == "livenessProbe":
                items.append(("initialDelaySeconds", config.probe_initial_delay_seconds))
            items.append(("periodSeconds", config.probe_period_seconds))
            _append(container, probe, _block_map(*items))
            edits.append(
                (
                    target.path(*cpath, probe),
                    f"added {probe} tcpSocket port {port} on container '{_container_name(container)}'",
                )
            )
        return edits

    return fixer


def _template_labels(target: _Target) -> CommentedMap | None:
    """The pod template's labels, if they are a non-empty mapping of scalars."""
    labels = target.pod.metadata.get("labels") if target.pod is not None else None
    if isinstance(labels, CommentedMap) and labels and all(isinstance(v, (str, int)) for v in labels.values()):
        return labels
    return None


def _copy_labels(labels: CommentedMap) -> CommentedMap:
    return _block_map(*((str(k), v) for k, v in labels.items()))


def _fix_selector(target: _Target, config: RepairConfig) -> list[Edit]:
    spec = target.obj.get("spec")
    if not isinstance(spec, CommentedMap) or spec.get("selector") is not None:
        return []  # an existing selector is never edited (it is immutable once applied)
    labels = _template_labels(target)
    if labels is None:
        return []
    if "selector" in spec:
        del spec["selector"]
    _append(spec, "selector", _block_map(("matchLabels", _copy_labels(labels))))
    return [(target.path("spec", "selector", "matchLabels"), "added spec.selector.matchLabels = the template labels")]


def _fix_spread(target: _Target, config: RepairConfig) -> list[Edit]:
    spec = target.pod_spec
    if spec is None or "topologySpreadConstraints" in spec:
        return []
    affinity = spec.get("affinity")
    if isinstance(affinity, CommentedMap) and "podAntiAffinity" in affinity:
        return []
    obj_spec = target.obj.get("spec")
    selector = obj_spec.get("selector") if isinstance(obj_spec, CommentedMap) else None
    match = selector.get("matchLabels") if isinstance(selector, CommentedMap) else None
    labels = match if isinstance(match, CommentedMap) and match else _template_labels(target)
    if labels is None:
        return []
    constraint = _block_map(
        ("maxSkew", 1),
        ("topologyKey", "kubernetes.io/hostname"),
        ("whenUnsatisfiable", "ScheduleAnyway"),
        ("labelSelector", _block_map(("matchLabels", _copy_labels(labels)))),
    )
    seq = CommentedSeq([constraint])
    seq.fa.set_block_style()
    _append(spec, "topologySpreadConstraints", seq)
    return [
        (
            target.path(*target.pod_spec_path, "topologySpreadConstraints"),
            "added a soft topologySpreadConstraint (maxSkew 1 over kubernetes.io/hostname, ScheduleAnyway)",
        )
    ]


# --------------------------------------------------------------------------------------------- rules as data
@dataclass(frozen=True)
class RepairRule:
    """A repair rule: the check it makes pass, the fixer that edits one object, the default it writes, and its level.

    Args:
        check_id: The check the rule makes pass.
        fixer: Edits one object (ruamel tree) and returns ``(path, description)`` per edit.
        default: What it writes, in words.
        level: ``safe`` (cannot stop a working pod from starting or running, whatever the image) or ``strict``
            (may: the image may run as root, write to its filesystem, need a capability, ...).
        reason: Why the rule has its level.
    """

    check_id: str
    fixer: Fixer
    default: str
    level: str
    reason: str


_DEFAULTS = RepairConfig()

REPAIR_RULES: tuple[RepairRule, ...] = (
    RepairRule(
        "sec.no_privilege_escalation",
        _set_container_security("allowPrivilegeEscalation", False, _ALL_CONTAINERS, _privileged_or_sys_admin),
        "container securityContext.allowPrivilegeEscalation: false (not on privileged / CAP_SYS_ADMIN containers, "
        "which the API server would reject)",
        "strict",
        "sets no_new_privs: a non-root process can no longer gain privileges through setuid binaries (sudo, su, "
        "ping in some images), so an image that relies on them fails",
    ),
    RepairRule(
        "sec.read_only_root_fs",
        _set_container_security("readOnlyRootFilesystem", True, _ALL_CONTAINERS, _never),
        "container securityContext.readOnlyRootFilesystem: true",
        "strict",
        "most images write somewhere under / (the official nginx image writes /var/cache/nginx and /var/run): "
        "they crash without an emptyDir mounted there",
    ),
    RepairRule(
        "sec.drop_all_capabilities",
        _fix_drop_all,
        "container securityContext.capabilities.drop: [ALL] (ALL appended to an existing drop list; `add` kept)",
        "strict",
        "root processes lose CHOWN, SETUID, NET_BIND_SERVICE ...: an init container that chowns a volume or a "
        "server that binds port 80 as root stops working",
    ),
    RepairRule(
        "sec.run_as_non_root",
        _fix_run_as_non_root,
        "pod securityContext.runAsNonRoot: true (no runAsUser unless RepairConfig.run_as_user is set; skipped when a "
        "container asks for root explicitly)",
        "strict",
        "the kubelet refuses to start an image whose user is root (nginx, most official images) unless runAsUser "
        "is set, and a guessed UID may not own the image's files",
    ),
    RepairRule(
        "sec.seccomp_runtime_default",
        _fix_seccomp,
        "pod securityContext.seccompProfile.type: RuntimeDefault",
        "strict",
        "the runtime's default profile blocks syscalls some programs need (unshare, mount, ptrace, keyctl: "
        "sandboxed browsers, build tools, debuggers)",
    ),
    RepairRule(
        "sec.no_automount_sa_token",
        _fix_automount,
        "pod spec automountServiceAccountToken: false (skipped when a non-default serviceAccountName is set)",
        "strict",
        "an app that calls the API server with the default service account (operators, service discovery "
        "clients) loses its token",
    ),
    RepairRule(
        "bp.cpu_requests",
        _resources_fixer("requests", "cpu"),
        f"resources.requests.cpu: {_DEFAULTS.cpu_request} (app + init containers; an existing smaller limit instead)",
        "safe",
        "a request only guides scheduling and CPU shares; a small one never stops or throttles a running container",
    ),
    RepairRule(
        "bp.memory_requests",
        _resources_fixer("requests", "memory"),
        f"resources.requests.memory: {_DEFAULTS.memory_request} (an existing smaller limit instead)",
        "safe",
        "a memory request is not a cap: the container may use more (only a limit OOM-kills); a small one always "
        "schedules",
    ),
    RepairRule(
        "bp.cpu_limits",
        _resources_fixer("limits", "cpu"),
        f"resources.limits.cpu: {_DEFAULTS.cpu_limit} (an existing larger request instead)",
        "safe",
        "a CPU limit throttles, it never kills: the container keeps running (more slowly under load)",
    ),
    RepairRule(
        "bp.memory_limits",
        _resources_fixer("limits", "memory"),
        f"resources.limits.memory: {_DEFAULTS.memory_limit} (an existing larger request instead)",
        "strict",
        "a container that needs more than the default limit is OOM-killed in a loop (JVMs, databases)",
    ),
    RepairRule(
        "bp.readiness_probe",
        _probe_fixer("readinessProbe"),
        f"readinessProbe: tcpSocket on the first TCP containerPort, periodSeconds {_DEFAULTS.probe_period_seconds} "
        "(only app containers with a port)",
        "strict",
        "a declared containerPort is informational: if nothing listens on it the pod never becomes Ready and its "
        "Service gets no endpoints",
    ),
    RepairRule(
        "bp.liveness_probe",
        _probe_fixer("livenessProbe"),
        "livenessProbe: tcpSocket on the first TCP containerPort, initialDelaySeconds "
        f"{_DEFAULTS.probe_initial_delay_seconds}, periodSeconds {_DEFAULTS.probe_period_seconds} (only app "
        "containers with a port)",
        "strict",
        "an app that opens its port late (slow JVM start) or never listens on the declared port is restarted in a "
        "loop",
    ),
    RepairRule(
        "bp.selector_matches_labels",
        _fix_selector,
        "spec.selector.matchLabels = the template labels, only when the selector is missing",
        "safe",
        "apps/v1 requires the selector; the added one selects exactly the template's own pods",
    ),
    RepairRule(
        "bp.pod_anti_affinity_or_spread",
        _fix_spread,
        "topologySpreadConstraints: maxSkew 1, topologyKey kubernetes.io/hostname, whenUnsatisfiable ScheduleAnyway, "
        "labelSelector = the selector's matchLabels",
        "safe",
        "ScheduleAnyway is a preference: the scheduler still places every pod when it cannot spread them",
    ),
)
if any(rule.level not in REPAIR_LEVELS for rule in REPAIR_RULES):  # pragma: no cover - guards the table
    raise RuntimeError("every repair rule needs a level in REPAIR_LEVELS")
REPAIR_RULES_BY_ID: dict[str, RepairRule] = {rule.check_id: rule for rule in REPAIR_RULES}

# Checks with no safe default: fixing them would change what the user asked for, or needs knowledge we do not have.
NOT_REPAIRED: dict[str, str] = {
    "bp.image_tag_pinned": "the image (and its tag) is the user's choice; a guessed tag may not exist",
    "bp.min_replicas": "the replica count is the user's choice (and costs money)",
    "bp.explicit_namespace": "the target namespace is a deployment decision (`kubectl apply -n`); an invented one may "
    "not exist, and `default` still fails the check",
    "sec.no_privileged": "privileged mode was asked for; removing it breaks the workload",
    "sec.no_added_capabilities": "added capabilities were asked for",
    "sec.no_host_network": "host networking was asked for",
    "sec.no_host_pid": "the host PID namespace was asked for",
    "sec.no_host_ipc": "the host IPC namespace was asked for",
    "sec.no_host_path": "a hostPath volume was asked for",
    "sec.no_host_port": "a hostPort was asked for",
    "sec.no_plaintext_secret_env": "moving the value to a Secret needs a Secret that does not exist yet",
}


# ------------------------------------------------------------------------------------------ documents and text
_MARKER_RE = re.compile(r"^(?:---|\.\.\.)(?:[ \t]+(?:#.*)?)?$")


def _split_stream(text: str) -> list[tuple[str, str]] | None:
    """Split a YAML stream into (marker lines, document body) pairs whose concatenation is `text`. None if a marker
    line carries content (`--- !tag`, `--- {a: 1}`), which this line-based split does not handle."""
    chunks: list[tuple[str, str]] = []
    marker, body = "", ""
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        if stripped.startswith(("---", "...")) and (len(stripped) == 3 or stripped[3] in " \t"):
            if not _MARKER_RE.match(stripped):
                return None
            if body:
                chunks.append((marker, body))
                marker, body = "", ""
            marker += line
        else:
            body += line
    chunks.append((marker, body))
    return chunks


_CONTENT_RE = re.compile(r"^( *)(- +)?([^#\s].*)$")


def _guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) for ruamel's `indent()`, from the most common steps in the document."""
    lines = []
    for line in text.splitlines():
        match = _CONTENT_RE.match(line)
        if match:
            lines.append((len(match.group(1)), match.group(2), match.group(3)))
    mapping_steps: collections.Counter[int] = collections.Counter()
    offsets: collections.Counter[int] = collections.Counter()
    for (indent, dash, content), (next_indent, next_dash, _) in zip(lines, lines[1:]):
        if not re.sub(r"\s+#.*$", "", content).endswith(":"):
            continue
        key_col = indent + (len(dash) if dash else 0)
        step = next_indent - key_col
        if next_dash and step >= 0:
            offsets[step] += 1
        elif not next_dash and step > 0:
            mapping_steps[step] += 1
    mapping = mapping_steps.most_common(1)[0][0] if mapping_steps else 2
    offset = offsets.most_common(1)[0][0] if offsets else 0
    return mapping, offset + 2 if offset + 2 >= mapping else mapping, offset


def _yaml_for(body: str) -> YAML:
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096  # never re-wrap long lines
    mapping, sequence, offset = _guess_indent(body)
    rt.indent(mapping=mapping, sequence=sequence, offset=offset)
    return rt


def _dump(rt: YAML, doc: Any) -> str:
    buf = io.StringIO()
    rt.dump(doc, buf)
    return buf.getvalue()


def _objects_of(doc: Any, doc_position: int) -> list[tuple[int, CommentedMap, tuple[PathPart, ...]]]:
    """The Kubernetes objects of a parsed document (List kinds expanded), as (chunk position, object, prefix)."""
    if not isinstance(doc, CommentedMap):
        return []
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
        items = doc["items"]
        return [(doc_position, item, ("items", i)) for i, item in enumerate(items) if isinstance(item, CommentedMap)]
    return [(doc_position, doc, ())]


def _contains(original: Any, new: Any) -> bool:
    """True if every key and value of `original` is in `new` unchanged (lists may only grow at the end)."""
    if isinstance(original, dict):
        return isinstance(new, dict) and all(k in new and _contains(v, new[k]) for k, v in original.items())
    if isinstance(original, list):
        return (
            isinstance(new, list)
            and len(new) >= len(original)
            and all(_contains(a, b) for a, b in zip(original, new))
        )
    return type(original) is type(new) and original == new


def _safe_load_all(text: str) -> list[Any] | None:
    try:
        return [d for d in yaml.load_all(text, Loader=_SafeLoader) if d is not None]
    except yaml.YAMLError:
        return None


# -------------------------------------------------------------------------------------------------- the driver
def _result(check: Any) -> str:
    return str(getattr(check, "value", check))


def _apply(
    chunks: list[tuple[str, str]],
    objects_meta: list[tuple[int, int, str, str]],
    failing: dict[int, list[str]],
    config: RepairConfig,
) -> tuple[str, list[Change], list[int]] | None:
    """Re-parse every document, apply the fixers of `failing` (object index -> check ids) and return the new text,
    its changes and the index of the object of each change; documents without an edit are copied verbatim. None if
    the documents do not line up with the judge's objects."""
    parsed: list[tuple[YAML, Any]] = []
    for _, body in chunks:
        rt = _yaml_for(body)
        parsed.append((rt, rt.load(body)))
    objects = [o for position, (_, doc) in enumerate(parsed) for o in _objects_of(doc, position)]
    if len(objects) != len(objects_meta):
        return None
    changes: list[Change] = []
    owners: list[int] = []
    touched: set[int] = set()
    for index, check_ids in sorted(failing.items()):
        position, obj, prefix = objects[index]
        target = _locate(obj, prefix)
        doc_index, _, kind, name = objects_meta[index]
        for rule in REPAIR_RULES:
            if rule.check_id not in check_ids:
                continue
            for path, description in rule.fixer(target, config):
                changes.append(Change(rule.check_id, doc_index, kind, name, path, description))
                owners.append(index)
                touched.add(position)
    pieces = []
    for position, ((marker, body), (rt, doc)) in enumerate(zip(chunks, parsed)):
        if position in touched:
            dumped = _dump(rt, doc)
            body = dumped.replace("\n", "\r\n") if "\r\n" in body else dumped  # keep Windows line ends
        pieces.append(marker + body)
    return "".join(pieces), changes, owners


def repair(yaml_text: str, config: RepairConfig | None = None) -> tuple[str, list[Change]]:
    """Make failing checks pass with minimal, safe edits.

    Args:
        yaml_text: a Kubernetes manifest (one or more YAML documents).
        config: the defaults to write, the level (`RepairConfig(level="safe")`, the default, or ``"strict"``) and
            the rules to use (`RepairConfig()` if None).

    Returns:
        `(fixed_text, changes)`: the repaired text (the input itself when nothing was changed) and one `Change` per
        edit, each naming the check it makes pass. Invalid input gives `(yaml_text, [])`. Idempotent:
        `repair(repair(t)[0]) == (repair(t)[0], [])`.
    """
    if not isinstance(yaml_text, str):
        return yaml_text, []
    config = config or RepairConfig()
    try:
        return _repair(yaml_text, config)
    except RuamelYAMLError as err:  # e.g. a duplicate key, which PyYAML accepts and ruamel refuses
        logger.info("repair: the round-trip parser refused the input (%s); left unchanged", type(err).__name__)
        return yaml_text, []
    except Exception:  # never raise on user input: an unexpected tree is returned untouched
        logger.warning("repair failed; returning the input unchanged", exc_info=True)
        return yaml_text, []


def _repair(text: str, config: RepairConfig) -> tuple[str, list[Change]]:
    before = analyze(text)
    if not before.valid or not before.objects:
        return text, []
    chunks = _split_stream(text)
    if chunks is None:
        logger.info("repair: document markers with content are not supported; input left unchanged")
        return text, []
    before_validity = validate(text)
    original_docs = _safe_load_all(text)
    meta = [(o.doc_index, i, o.kind, o.name) for i, o in enumerate(before.objects)]
    levels = REPAIR_LEVELS[: REPAIR_LEVELS.index(config.level) + 1]
    by_level = {rule.check_id for rule in REPAIR_RULES if rule.level in levels}
    allowed = by_level if config.checks is None else set(config.checks) & by_level
    candidates: dict[int, set[str]] = {}
    for i, obj in enumerate(before.objects):
        fails = {cid for cid, res in obj.checks.items() if _result(res) == "fail" and cid in allowed}
        if fails:
            candidates[i] = fails
    if not candidates:
        return text, []

    def acceptable(new_text: str, changes: list[Change], owners: list[int]) -> tuple[bool, set[tuple[int, str]]]:
        """(output acceptable as a whole, the (object, check) pairs whose edits did not make the check pass)."""
        after = analyze(new_text)
        if not after.valid or len(after.objects) != len(before.objects):
            return False, set()
        validity = validate(new_text)
        if before_validity.schema_valid and not validity.schema_valid:
            return False, set()
        if not before_validity.schema_valid and len(validity.errors) > len(before_validity.errors):
            return False, set()
        new_docs = _safe_load_all(new_text)
        if new_docs is None or original_docs is None or len(new_docs) != len(original_docs):
            return False, set()
        if not all(_contains(a, b) for a, b in zip(original_docs, new_docs)):
            return False, set()
        for old, new in zip(before.objects, after.objects):
            for cid, res in old.checks.items():
                if _result(res) != "fail" and _result(new.checks.get(cid, res)) == "fail":
                    return False, set()
        unfixed = set()
        for change, i in zip(changes, owners):
            if _result(after.objects[i].checks.get(change.check_id)) != "pass":
                unfixed.add((i, change.check_id))
        return True, unfixed

    def attempt(selected: dict[int, set[str]]) -> tuple[str, list[Change], list[int]] | None:
        return _apply(chunks, meta, {i: sorted(c) for i, c in selected.items() if c}, config)

    # Batch rounds: apply everything, drop the (object, check) pairs that did not reach "pass", retry.
    selected = {i: set(c) for i, c in candidates.items()}
    for _ in range(config.max_rounds):
        applied = attempt(selected)
        if applied is None:
            return text, []
        new_text, changes, owners = applied
        if not changes:
            return text, []
        ok, unfixed = acceptable(new_text, changes, owners)
        if not ok:
            break
        if not unfixed:
            return new_text, changes
        for i, cid in unfixed:
            selected[i].discard(cid)
    # Fallback: add one (object, check) pair at a time, keeping those that keep the whole output acceptable.
    logger.info("repair: batch edits rejected, trying them one by one")
    kept: dict[int, set[str]] = {}
    best: tuple[str, list[Change]] = (text, [])
    for i in sorted(selected):
        for cid in [r.check_id for r in REPAIR_RULES if r.check_id in selected[i]]:
            trial = {k: set(v) for k, v in kept.items()}
            trial.setdefault(i, set()).add(cid)
            applied = attempt(trial)
            if applied is None or not applied[1]:
                continue
            ok, unfixed = acceptable(*applied)
            if ok and not unfixed:
                kept = trial
                best = applied[0], applied[1]
    return best
