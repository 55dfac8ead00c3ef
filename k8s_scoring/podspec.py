"""The one traversal from a Kubernetes object to its pod spec and containers (k8s_checks.md, "Scope rules").

Pod spec location: ``spec`` for a Pod, ``spec.jobTemplate.spec.template.spec`` for a CronJob and
``spec.template.spec`` for the other controllers (and for any object that has ``spec.template.spec.containers``).
Every rule reads containers through `PodView`, so init and ephemeral containers and the pod-level
``securityContext`` inheritance are handled here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WORKLOAD_KINDS = frozenset(
    {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"}
)

# Fields that exist in both PodSecurityContext and (container) SecurityContext: the pod-level value applies to a
# container unless the container sets the field itself. Container-only fields (privileged, capabilities,
# allowPrivilegeEscalation, readOnlyRootFilesystem) are not inherited: Kubernetes has no pod-level version of them.
POD_INHERITED_SECURITY_FIELDS = frozenset(
    {
        "runAsNonRoot", "runAsUser", "runAsGroup", "seccompProfile", "seLinuxOptions", "windowsOptions",
        "appArmorProfile",
    }  # fmt: skip
)


def mapping(value: Any) -> dict:
    """``value`` if it is a mapping, else an empty one (manifests may hold any type anywhere)."""
    return value if isinstance(value, dict) else {}


def sequence(value: Any) -> list:
    """``value`` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


@dataclass(slots=True)
class Container:
    """A container of a pod spec, with its role (``container`` | ``initContainer`` | ``ephemeralContainer``)."""

    data: dict
    role: str

    @property
    def name(self) -> str:
        name = self.data.get("name")
        return name if isinstance(name, str) else "?"

    @property
    def label(self) -> str:
        return f'{self.role} "{self.name}"'

    @property
    def security_context(self) -> dict:
        return mapping(self.data.get("securityContext"))


@dataclass(slots=True)
class PodView:
    """The pod spec of a workload object, with its containers grouped by role.

    Args:
        spec: The pod spec mapping (empty when the workload has none).
        metadata: The pod's metadata: the object's for a Pod, the template's for controllers.
        containers: App containers (``containers[]``).
        init_containers: ``initContainers[]``.
        ephemeral_containers: ``ephemeralContainers[]``.
    """

    spec: dict
    metadata: dict
    containers: list[Container]
    init_containers: list[Container]
    ephemeral_containers: list[Container]

    @property
    def security_context(self) -> dict:
        return mapping(self.spec.get("securityContext"))

    @property
    def app_and_init(self) -> list[Container]:
        return self.containers + self.init_containers

    @property
    def all_containers(self) -> list[Container]:
        return self.containers + self.init_containers + self.ephemeral_containers

    def scope(self, name: str) -> list[Container]:
        """Containers of a check scope: ``app`` | ``app+init`` | ``all``."""
        if name == "app":
            return self.containers
        if name == "app+init":
            return self.app_and_init
        return self.all_containers

    def effective(self, container: Container, key: str) -> Any:
        """Effective ``securityContext`` value for ``container``: its own unless unset, then the pod-level one."""
        value = container.security_context.get(key)
        if value is None and key in POD_INHERITED_SECURITY_FIELDS:
            value = self.security_context.get(key)
        return value


def _containers(spec: dict, key: str, role: str) -> list[Container]:
    return [Container(item if isinstance(item, dict) else {}, role) for item in sequence(spec.get(key))]


def pod_view(obj: dict) -> PodView | None:
    """The `PodView` of a workload object, or `None` for non-workloads.

    Args:
        obj: A Kubernetes object mapping with string ``kind``.
    """
    kind = obj["kind"]
    spec = mapping(obj.get("spec"))
    if kind == "Pod":
        pod_spec, metadata = spec, mapping(obj.get("metadata"))
    else:
        if kind == "CronJob":
            template = mapping(mapping(mapping(spec.get("jobTemplate")).get("spec")).get("template"))
        else:
            template = mapping(spec.get("template"))
        pod_spec = mapping(template.get("spec"))
        if kind not in WORKLOAD_KINDS and "containers" not in pod_spec:
            return None
        metadata = mapping(template.get("metadata"))
    return PodView(
        spec=pod_spec,
        metadata=metadata,
        containers=_containers(pod_spec, "containers", "container"),
        init_containers=_containers(pod_spec, "initContainers", "initContainer"),
        ephemeral_containers=_containers(pod_spec, "ephemeralContainers", "ephemeralContainer"),
    )
