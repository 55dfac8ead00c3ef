"""The one traversal from a Kubernetes object to its pod spec and containers (k8s_checks.md, "Scope rules").

Pod spec location: ``spec`` for a Pod, ``spec.jobTemplate.spec.template.spec`` for a CronJob and
``spec.template.spec`` for the other controllers (and for any object that has ``spec.template.spec.containers``).
Pod controllers of other API groups are data (`POD_CONTROLLERS`): OpenShift ``DeploymentConfig`` and Argo Rollouts
``Rollout`` keep their pod template at ``spec.template``.
Every rule reads containers through `PodView`, so init and ephemeral containers and the pod-level
``securityContext`` inheritance are handled here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WORKLOAD_KINDS = frozenset(
    {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"}
)



@dataclass(frozen=True, slots=True)
class PodController:
    """A pod controller outside the built-in `WORKLOAD_KINDS`, as data.

    Args:
        group: API group of its apiVersion (``apps.openshift.io`` for ``apps.openshift.io/v1``).
        kind: Its kind.
        template: Keys from the object root to its pod template (the mapping that holds ``metadata`` and ``spec``).
        template_required: Whether every valid object has the template. Then the object is a workload even when the
            template is missing (and its container checks fail, as for a Deployment); otherwise an object without
            the template (an Argo ``Rollout`` with ``workloadRef`` points at a Deployment instead) is no workload.
    """

    group: str
    kind: str
    template: tuple[str, ...]
    template_required: bool


# Custom pod controllers whose pod template has one stable location. Chosen from the corpus: 20 of the 22 Argo
# Rollouts (k8s_data/corpus and shared/data/k8s_manifests) hold spec.template (the other 2 use workloadRef);
# DeploymentConfig is absent from the corpus but is OpenShift's Deployment (kube-linter lints it as one).
# Left out on purpose: kinds with several pod templates (RayCluster head/worker groups, JobSet, TFJob/PyTorchJob/
# MPIJob replica specs, LeaderWorkerSet): one object has one `PodView` here; job-like kinds (KEDA ScaledJob at
# spec.jobTargetRef.template, Knative JobSink at spec.job.spec.template): the probe checks would need to learn that
# they run to completion, as Job/CronJob do; Flink's spec.podTemplate: a partial template merged by the operator.
# Knative Service/Configuration and OpenKruise CloneSet/BroadcastJob use spec.template.spec and are already found by
# the generic rule (any object with spec.template.spec.containers).
POD_CONTROLLERS: dict[tuple[str, str], PodController] = {
    (c.group, c.kind): c
    for c in (
        PodController("apps.openshift.io", "DeploymentConfig", ("spec", "template"), template_required=True),
        PodController("argoproj.io", "Rollout", ("spec", "template"), template_required=False),
    )
}

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


def _controller(obj: dict) -> PodController | None:
    api_version = obj.get("apiVersion")
    if not isinstance(api_version, str):
        return None
    return POD_CONTROLLERS.get((api_version.rpartition("/")[0], obj["kind"]))


_TEMPLATE_PATH = ("spec", "template")
_CRONJOB_TEMPLATE_PATH = ("spec", "jobTemplate", "spec", "template")


def _template(obj: dict) -> tuple[tuple[str, ...], dict] | None:
    """``(path, pod template)`` of a controller object, `None` when it is no pod controller (Pod excluded)."""
    kind = obj["kind"]
    spec = mapping(obj.get("spec"))
    if kind == "CronJob":
        return _CRONJOB_TEMPLATE_PATH, mapping(mapping(mapping(spec.get("jobTemplate")).get("spec")).get("template"))
    if kind in WORKLOAD_KINDS:
        return _TEMPLATE_PATH, mapping(spec.get("template"))
    controller = _controller(obj)
    if controller is not None:
        node: object = obj
        for key in controller.template:
            node = mapping(node).get(key)
        if isinstance(node, dict) or controller.template_required:
            return controller.template, mapping(node)
        return None
    template = mapping(spec.get("template"))
    return (_TEMPLATE_PATH, template) if "containers" in mapping(template.get("spec")) else None


def template_path(obj: dict) -> tuple[str, ...] | None:
    """Keys from the object root to its pod template (``()`` for a Pod: its own root); `None` for non-workloads.

    The same decision as `pod_view`, as a path (reports use it to point at pod-spec fields).

    Args:
        obj: A Kubernetes object mapping with string ``kind``.
    """
    if obj["kind"] == "Pod":
        return ()
    found = _template(obj)
    return None if found is None else found[0]


def pod_view(obj: dict) -> PodView | None:
    """The `PodView` of a workload object, or `None` for non-workloads.

    Args:
        obj: A Kubernetes object mapping with string ``kind``.
    """
    kind = obj["kind"]
    if kind == "Pod":
        return _view(mapping(obj.get("spec")), mapping(obj.get("metadata")))
    if kind in WORKLOAD_KINDS and kind != "CronJob":  # the common case, without the generic lookup
        template = mapping(mapping(obj.get("spec")).get("template"))
    else:
        found = _template(obj)
        if found is None:
            return None
        template = found[1]
    return _view(mapping(template.get("spec")), mapping(template.get("metadata")))


def _view(pod_spec: dict, metadata: dict) -> PodView:
    return PodView(
        spec=pod_spec,
        metadata=metadata,
        containers=_containers(pod_spec, "containers", "container"),
        init_containers=_containers(pod_spec, "initContainers", "initContainer"),
        ephemeral_containers=_containers(pod_spec, "ephemeralContainers", "ephemeralContainer"),
    )
