"""The Kubernetes API server's own validation of built-in kinds, as data: what the OpenAPI schema leaves out.

The OpenAPI schema only checks types and unknown fields. The API server also runs hand-written validation
(``pkg/apis/<group>/validation/validation.go`` in kubernetes/kubernetes) that rejects, for example, a PVC without a
storage request, ``accessModes: [Replace]``, a container port 70000 or a Job whose pods restart ``Always``. Each
`ApiRule` here mirrors one such validation and names the function it mirrors (`ApiRule.mirrors`); the field-level
rules (enums, ranges, quantities, names) are rows of tables (`ENUM_FIELDS`, `RANGE_FIELDS`, ...) over field paths, and
the structural ones are small functions. `check_object` runs every rule on one object and returns
``(path, message)`` pairs, paths written as ``spec.template.spec.containers[0].ports[0].containerPort``.

Rules are deliberately conservative: a rule that rejects a manifest the API server accepts is a bug (the corpus
report in ``docs/validity.md`` counts every verdict change). Defaulting is respected: an empty string or a ``0``
that the API server replaces by a default is not an error.

One rule is not the API server's but the kubelet's: ``api.run_as_non_root_uid_0`` (``runAsNonRoot: true`` with
``runAsUser: 0``) is accepted by the API server and then refused by the kubelet at container start
(``CreateContainerConfigError``), so the pod never runs.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from .podspec import mapping, sequence
from .selectors import selector_is_empty, selector_matches

logger = logging.getLogger(__name__)

Problem = tuple[str, str]  # (path, message)

_VALIDATION = "pkg/apis/core/validation/validation.go"
_APPS = "pkg/apis/apps/validation/validation.go"
_BATCH = "pkg/apis/batch/validation/validation.go"
_NETWORKING = "pkg/apis/networking/validation/validation.go"
_AUTOSCALING = "pkg/apis/autoscaling/validation/validation.go"
_POLICY = "pkg/apis/policy/validation/validation.go"
_STORAGE = "pkg/apis/storage/validation/validation.go"
_META = "staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go"
_UTIL = "staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go"

# ------------------------------------------------------------------------------------------------ name syntax
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_IANA_SVC_NAME = re.compile(r"[-a-z0-9]+")
_CONFIG_MAP_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_VERSION = _DNS1035_LABEL


def is_dns1123_label(value: Any) -> bool:
    """``IsDNS1123Label``: lower-case alphanumerics and '-', at most 63 characters."""
    return isinstance(value, str) and len(value) <= 63 and _DNS1123_LABEL.fullmatch(value) is not None


def is_dns1123_subdomain(value: Any) -> bool:
    """``IsDNS1123Subdomain``: dot-separated DNS-1123 labels, at most 253 characters."""
    return isinstance(value, str) and len(value) <= 253 and _DNS1123_SUBDOMAIN.fullmatch(value) is not None


def is_dns1035_label(value: Any) -> bool:
    """``IsDNS1035Label``: a DNS-1123 label that starts with a letter."""
    return isinstance(value, str) and len(value) <= 63 and _DNS1035_LABEL.fullmatch(value) is not None


def is_qualified_name(value: Any) -> bool:
    """``IsQualifiedName``: ``[prefix/]name``, prefix a DNS subdomain, name <= 63 of ``[-A-Za-z0-9_.]``."""
    if not isinstance(value, str) or not value:
        return False
    prefix, slash, name = value.rpartition("/")
    if slash and (not prefix or not is_dns1123_subdomain(prefix)):
        return False
    return len(name) <= 63 and _QUALIFIED_NAME.fullmatch(name) is not None


def is_label_value(value: Any) -> bool:
    """``IsValidLabelValue``: empty, or <= 63 of ``[-A-Za-z0-9_.]`` starting and ending alphanumeric."""
    if not isinstance(value, str):
        return False
    return value == "" or (len(value) <= 63 and _QUALIFIED_NAME.fullmatch(value) is not None)


def is_path_segment_name(value: Any) -> bool:
    """``IsValidPathSegmentName`` (RBAC names, ``system:controller:x``): not ``.`` or ``..``, no ``/`` or ``%``."""
    return isinstance(value, str) and value not in (".", "..") and "/" not in value and "%" not in value


def is_iana_svc_name(value: Any) -> bool:
    """``IsValidPortName``: <= 15 of ``[-a-z0-9]``, a letter, no leading, trailing or double '-'."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 15
        and _IANA_SVC_NAME.fullmatch(value) is not None
        and any(c.isalpha() for c in value)
        and not value.startswith("-")
        and not value.endswith("-")
        and "--" not in value
    )


def is_config_map_key(value: Any) -> bool:
    """``IsConfigMapKey``: <= 253 of ``[-._a-zA-Z0-9]``, not ``.``, ``..`` or starting with ``..``."""
    return (
        isinstance(value, str)
        and len(value) <= 253
        and _CONFIG_MAP_KEY.fullmatch(value) is not None
        and value not in (".", "..")
        and not value.startswith("..")
    )


def api_version_problem(api_version: str) -> str | None:
    """Why an ``apiVersion`` is malformed (``group/version``: group a DNS subdomain, version a DNS-1035 label)."""
    group, slash, version = api_version.rpartition("/")
    if slash and not is_dns1123_subdomain(group):
        return f"apiVersion {api_version!r}: the group {group!r} is not a valid DNS subdomain"
    if not is_dns1035_label(version):
        return f"apiVersion {api_version!r}: the version {version!r} is not a valid version name (e.g. v1, v1beta1)"
    return None


def kind_problem(kind: str) -> str | None:
    """Why a ``kind`` is malformed: a CRD's ``names.kind`` must be a DNS-1035 label once lower-cased
    (``validateCustomResourceDefinitionNames``): ``ScaledObject`` and even ``block-pods`` pass, ``Secret!`` not."""
    return None if is_dns1035_label(kind.lower()) else f"kind {kind!r} is not a valid kind name"


# ------------------------------------------------------------------------------------------------ quantities
_QUANTITY_RE = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?")
_SUFFIX = {
    "": Decimal(1), "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12, "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18, "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}  # fmt: skip


def parse_quantity(value: Any) -> Decimal | None:
    """The value of a ``resource.Quantity`` (``500m``, ``1.5Gi``, ``2e3``, ``1``), or `None` if malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return Decimal(str(value))
        except InvalidOperation:  # pragma: no cover - nan/inf are floats that never reach here from YAML ints
            return None
    if not isinstance(value, str):
        return None
    match = _QUANTITY_RE.fullmatch(value.strip()) if value.strip() == value else None
    if match is None:
        return None
    number, suffix = match.group(1), match.group(2) or ""
    try:
        if suffix[:1] in ("e", "E"):
            return Decimal(number) * Decimal(10) ** int(suffix[1:])
        return Decimal(number) * _SUFFIX[suffix]
    except (InvalidOperation, KeyError, ValueError):
        return None


# ------------------------------------------------------------------------------------------------ paths
@lru_cache(maxsize=512)
def _split(pattern: str) -> tuple[str, ...]:
    """``spec.ports[*].port`` -> ``("spec", "ports", "[*]", "port")``."""
    parts: list[str] = []
    for piece in pattern.split("."):
        while piece.endswith("[*]"):
            piece = piece[:-3]
            parts.append(piece)
            parts.append("[*]")
            piece = ""
        if piece:
            parts.append(piece)
    return tuple(p for p in parts if p)


def _walk(node: Any, parts: tuple[str, ...], path: str = "") -> Iterator[tuple[str, Any]]:
    """``(path, value)`` of every value at a pattern's location (``[*]`` = every item of a list)."""
    if not parts:
        yield path, node
        return
    head, rest = parts[0], parts[1:]
    if head == "[*]":
        if type(node) is list:
            for index, item in enumerate(node):
                yield from _walk(item, rest, f"{path}[{index}]")
    elif type(node) is dict and head in node:
        yield from _walk(node[head], rest, f"{path}.{head}" if path else head)


_POD_TEMPLATE_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}
)
POD_KINDS = _POD_TEMPLATE_KINDS | {"Pod", "CronJob", "PodTemplate"}
_CONTROLLER_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"})
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def pod_spec_path(kind: str) -> str | None:
    """Where the pod spec of a built-in kind lives (``spec.template.spec`` ...), `None` for kinds without one."""
    if kind == "Pod":
        return "spec"
    if kind == "CronJob":
        return "spec.jobTemplate.spec.template.spec"
    if kind == "PodTemplate":
        return "template.spec"
    if kind in _POD_TEMPLATE_KINDS:
        return "spec.template.spec"
    return None


@lru_cache(maxsize=1024)
def _expand(pattern: str, kind: str) -> tuple[tuple[str, ...], ...]:
    """A pattern's concrete parts for ``kind``: ``{pod}`` -> the pod spec path, ``{ctr}`` -> each container list."""
    if "{pod}" in pattern or "{ctr}" in pattern:
        pod = pod_spec_path(kind)
        if pod is None:
            return ()
        pattern = pattern.replace("{pod}", pod)
        if "{ctr}" in pattern:
            return tuple(_split(pattern.replace("{ctr}", f"{pod}.{name}[*]")) for name in _CONTAINER_LISTS)
    return (_split(pattern),)


def values_at(obj: dict, kind: str, pattern: str) -> Iterator[tuple[str, Any]]:
    """``(path, value)`` at ``pattern`` in ``obj`` (see `_expand` for ``{pod}`` / ``{ctr}``)."""
    for parts in _expand(pattern, kind):
        yield from _walk(obj, parts)


# ------------------------------------------------------------------------------------------------ rules
@dataclass(frozen=True)
class ApiRule:
    """One API-server validation.

    Args:
        id: Public, stable id (``api.*``).
        title: What it checks, in words.
        kinds: The built-in kinds it reads (empty: every built-in kind).
        mirrors: The Kubernetes validation it mirrors (file and function in kubernetes/kubernetes).
        check: ``(object, kind) -> (path, message)`` problems.
        table: The rule is a field table (enum, range, quantity): `check_object` runs all tables in one walk.
    """

    id: str
    title: str
    kinds: frozenset[str]
    mirrors: str
    check: Callable[[dict, str], Iterable[Problem]]
    table: bool = False


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- tables --------------------------------------------------------------------------------------------------
_PROTOCOLS = ("TCP", "UDP", "SCTP")
_ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
_POD = POD_KINDS
_ANY_STS = frozenset({"StatefulSet"})

# (rule id, kinds, field pattern, allowed values, mirrors). "" and null are skipped: the API server defaults them.
ENUM_FIELDS: tuple[tuple[str, frozenset[str], str, tuple[str, ...], str], ...] = (
    ("api.service_enums", frozenset({"Service"}), "spec.type", ("ClusterIP", "NodePort", "LoadBalancer",
     "ExternalName"), f"{_VALIDATION}: ValidateService (supportedServiceType)"),
    ("api.service_enums", frozenset({"Service"}), "spec.externalTrafficPolicy", ("Cluster", "Local"),
     f"{_VALIDATION}: validateServiceExternalTrafficPolicy"),
    ("api.service_enums", frozenset({"Service"}), "spec.internalTrafficPolicy", ("Cluster", "Local"),
     f"{_VALIDATION}: validateServiceInternalTrafficFieldsValue"),
    ("api.service_enums", frozenset({"Service"}), "spec.sessionAffinity", ("None", "ClientIP"),
     f"{_VALIDATION}: ValidateService (supportedSessionAffinityType)"),
    ("api.service_enums", frozenset({"Service"}), "spec.ipFamilyPolicy", ("SingleStack", "PreferDualStack",
     "RequireDualStack"), f"{_VALIDATION}: validateIPFamilyPolicy"),
    ("api.service_enums", frozenset({"Service"}), "spec.ipFamilies[*]", ("IPv4", "IPv6"),
     f"{_VALIDATION}: validateIPFamilies"),
    ("api.protocol", frozenset({"Service"}), "spec.ports[*].protocol", _PROTOCOLS,
     f"{_VALIDATION}: validateServicePort (supportedPortProtocols)"),
    ("api.protocol", _POD, "{ctr}.ports[*].protocol", _PROTOCOLS,
     f"{_VALIDATION}: validateContainerPorts (supportedPortProtocols)"),
    ("api.protocol", frozenset({"NetworkPolicy"}), "spec.ingress[*].ports[*].protocol", _PROTOCOLS,
     f"{_NETWORKING}: ValidateNetworkPolicyPort"),
    ("api.protocol", frozenset({"NetworkPolicy"}), "spec.egress[*].ports[*].protocol", _PROTOCOLS,
     f"{_NETWORKING}: ValidateNetworkPolicyPort"),
    ("api.access_modes", frozenset({"PersistentVolumeClaim"}), "spec.accessModes[*]", _ACCESS_MODES,
     f"{_VALIDATION}: ValidatePersistentVolumeClaimSpec (supportedAccessModes)"),
    ("api.access_modes", frozenset({"PersistentVolume"}), "spec.accessModes[*]", _ACCESS_MODES,
     f"{_VALIDATION}: ValidatePersistentVolumeSpec (supportedAccessModes)"),
    ("api.access_modes", _ANY_STS, "spec.volumeClaimTemplates[*].spec.accessModes[*]", _ACCESS_MODES,
     f"{_APPS}: ValidateStatefulSetSpec -> ValidatePersistentVolumeClaimSpec"),
    ("api.volume_enums", frozenset({"PersistentVolumeClaim", "PersistentVolume"}), "spec.volumeMode",
     ("Filesystem", "Block"), f"{_VALIDATION}: ValidatePersistentVolumeClaimSpec (supportedVolumeModes)"),
    ("api.volume_enums", frozenset({"PersistentVolume"}), "spec.persistentVolumeReclaimPolicy",
     ("Retain", "Delete", "Recycle"), f"{_VALIDATION}: ValidatePersistentVolumeSpec (supportedReclaimPolicy)"),
    ("api.volume_enums", frozenset({"StorageClass"}), "reclaimPolicy", ("Retain", "Delete"),
     f"{_STORAGE}: validateReclaimPolicy"),
    ("api.volume_enums", frozenset({"StorageClass"}), "volumeBindingMode", ("Immediate", "WaitForFirstConsumer"),
     f"{_STORAGE}: validateVolumeBindingMode"),
    ("api.restart_policy", _POD, "{pod}.restartPolicy", ("Always", "OnFailure", "Never"),
     f"{_VALIDATION}: validateRestartPolicy"),
    ("api.pod_enums", _POD, "{pod}.dnsPolicy", ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"),
     f"{_VALIDATION}: validateDNSPolicy"),
    ("api.pod_enums", _POD, "{pod}.preemptionPolicy", ("PreemptLowerPriority", "Never"),
     f"{_VALIDATION}: validatePreemptionPolicy"),
    ("api.pod_enums", _POD, "{pod}.tolerations[*].operator", ("Exists", "Equal"),
     f"{_VALIDATION}: ValidateTolerations"),
    ("api.pod_enums", _POD, "{pod}.tolerations[*].effect", ("NoSchedule", "PreferNoSchedule", "NoExecute"),
     f"{_VALIDATION}: validateTaintEffect"),
    ("api.pod_enums", _POD, "{pod}.topologySpreadConstraints[*].whenUnsatisfiable",
     ("DoNotSchedule", "ScheduleAnyway"), f"{_VALIDATION}: ValidateWhenUnsatisfiable"),
    ("api.pod_enums", _POD, "{pod}.securityContext.seccompProfile.type", ("RuntimeDefault", "Localhost",
     "Unconfined"), f"{_VALIDATION}: validateSeccompProfileField"),
    ("api.container_enums", _POD, "{ctr}.securityContext.seccompProfile.type", ("RuntimeDefault", "Localhost",
     "Unconfined"), f"{_VALIDATION}: validateSeccompProfileField"),
    ("api.container_enums", _POD, "{ctr}.imagePullPolicy", ("Always", "Never", "IfNotPresent"),
     f"{_VALIDATION}: validatePullPolicy"),
    ("api.container_enums", _POD, "{ctr}.terminationMessagePolicy", ("File", "FallbackToLogsOnError"),
     f"{_VALIDATION}: validateContainerCommon (terminationMessagePolicy)"),
    ("api.container_enums", _POD, "{ctr}.volumeMounts[*].mountPropagation", ("None", "HostToContainer",
     "Bidirectional"), f"{_VALIDATION}: validateMountPropagation"),
    ("api.controller_enums", frozenset({"Deployment"}), "spec.strategy.type", ("Recreate", "RollingUpdate"),
     f"{_APPS}: ValidateDeploymentStrategy"),
    ("api.controller_enums", frozenset({"StatefulSet"}), "spec.podManagementPolicy", ("OrderedReady", "Parallel"),
     f"{_APPS}: ValidateStatefulSetSpec (podManagementPolicy)"),
    ("api.controller_enums", frozenset({"StatefulSet", "DaemonSet"}), "spec.updateStrategy.type",
     ("RollingUpdate", "OnDelete"), f"{_APPS}: ValidateStatefulSetSpec / ValidateDaemonSetUpdateStrategy"),
    ("api.controller_enums", frozenset({"CronJob"}), "spec.concurrencyPolicy", ("Allow", "Forbid", "Replace"),
     f"{_BATCH}: validateConcurrencyPolicy"),
    ("api.ingress_paths", frozenset({"Ingress"}), "spec.rules[*].http.paths[*].pathType",
     ("Exact", "Prefix", "ImplementationSpecific"), f"{_NETWORKING}: validateHTTPIngressPath"),
    ("api.network_policy", frozenset({"NetworkPolicy"}), "spec.policyTypes[*]", ("Ingress", "Egress"),
     f"{_NETWORKING}: ValidateNetworkPolicySpec"),
    ("api.hpa", frozenset({"HorizontalPodAutoscaler"}), "spec.metrics[*].type", ("Object", "Pods", "Resource",
     "ContainerResource", "External"), f"{_AUTOSCALING}: validateMetricSpec"),
    ("api.pdb", frozenset({"PodDisruptionBudget"}), "spec.unhealthyPodEvictionPolicy", ("IfHealthyBudget",
     "AlwaysAllow"), f"{_POLICY}: ValidatePodDisruptionBudgetSpec"),
)  # fmt: skip

_PORT = (1, 65535)
_INT32 = 2_147_483_647
# (rule id, kinds, field pattern, (low, high), mirrors). Integers only (int-or-string names are checked elsewhere);
# 0 where the API server reads 0 as "unset" is inside the range.
RANGE_FIELDS: tuple[tuple[str, frozenset[str], str, tuple[int, int], str], ...] = (
    ("api.port_range", _POD, "{ctr}.ports[*].containerPort", _PORT, f"{_VALIDATION}: validateContainerPorts"),
    ("api.port_range", _POD, "{ctr}.ports[*].hostPort", (0, 65535), f"{_VALIDATION}: validateContainerPorts"),
    ("api.port_range", frozenset({"Service"}), "spec.ports[*].port", _PORT, f"{_VALIDATION}: validateServicePort"),
    ("api.port_range", frozenset({"Service"}), "spec.ports[*].targetPort", (0, 65535),
     f"{_VALIDATION}: validateServicePort (0 defaults to port)"),
    ("api.port_range", frozenset({"Service"}), "spec.ports[*].nodePort", (0, 65535),
     f"{_VALIDATION}: ValidateService (nodePort)"),
    ("api.port_range", _POD, "{ctr}.livenessProbe.httpGet.port", _PORT, f"{_VALIDATION}: validateHTTPGetAction"),
    ("api.port_range", _POD, "{ctr}.readinessProbe.httpGet.port", _PORT, f"{_VALIDATION}: validateHTTPGetAction"),
    ("api.port_range", _POD, "{ctr}.startupProbe.httpGet.port", _PORT, f"{_VALIDATION}: validateHTTPGetAction"),
    ("api.port_range", _POD, "{ctr}.livenessProbe.tcpSocket.port", _PORT,
     f"{_VALIDATION}: validateTCPSocketAction"),
    ("api.port_range", _POD, "{ctr}.readinessProbe.tcpSocket.port", _PORT,
     f"{_VALIDATION}: validateTCPSocketAction"),
    ("api.port_range", _POD, "{ctr}.startupProbe.tcpSocket.port", _PORT, f"{_VALIDATION}: validateTCPSocketAction"),
    ("api.port_range", frozenset({"Ingress"}), "spec.rules[*].http.paths[*].backend.service.port.number", _PORT,
     f"{_NETWORKING}: validateIngressBackend"),
    ("api.port_range", frozenset({"Ingress"}), "spec.defaultBackend.service.port.number", _PORT,
     f"{_NETWORKING}: validateIngressBackend"),
    ("api.non_negative", frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}),
     "spec.replicas", (0, _INT32), f"{_APPS}: ValidateDeploymentSpec (ValidateNonnegativeField replicas)"),
    ("api.non_negative", _POD, "{pod}.terminationGracePeriodSeconds", (0, 2**63 - 1),
     f"{_VALIDATION}: ValidatePodSpec (terminationGracePeriodSeconds)"),
    ("api.non_negative", _POD, "{pod}.securityContext.runAsUser", (0, _INT32),
     f"{_VALIDATION}: ValidatePodSecurityContext (IsValidUserID)"),
    ("api.non_negative", _POD, "{pod}.securityContext.runAsGroup", (0, _INT32),
     f"{_VALIDATION}: ValidatePodSecurityContext (IsValidGroupID)"),
    ("api.non_negative", _POD, "{pod}.securityContext.fsGroup", (0, _INT32),
     f"{_VALIDATION}: ValidatePodSecurityContext (IsValidGroupID)"),
    ("api.non_negative", _POD, "{ctr}.securityContext.runAsUser", (0, _INT32),
     f"{_VALIDATION}: ValidateSecurityContext (IsValidUserID)"),
    ("api.non_negative", _POD, "{ctr}.securityContext.runAsGroup", (0, _INT32),
     f"{_VALIDATION}: ValidateSecurityContext (IsValidGroupID)"),
    ("api.non_negative", frozenset({"Job"}), "spec.parallelism", (0, _INT32), f"{_BATCH}: validateJobSpec"),
    ("api.non_negative", frozenset({"Job"}), "spec.completions", (0, _INT32), f"{_BATCH}: validateJobSpec"),
    ("api.non_negative", frozenset({"Job"}), "spec.backoffLimit", (0, _INT32), f"{_BATCH}: validateJobSpec"),
    ("api.non_negative", frozenset({"CronJob"}), "spec.jobTemplate.spec.backoffLimit", (0, _INT32),
     f"{_BATCH}: validateJobSpec"),
    ("api.non_negative", frozenset({"CronJob"}), "spec.successfulJobsHistoryLimit", (0, _INT32),
     f"{_BATCH}: validateCronJobSpec"),
    ("api.non_negative", frozenset({"CronJob"}), "spec.failedJobsHistoryLimit", (0, _INT32),
     f"{_BATCH}: validateCronJobSpec"),
    ("api.non_negative", frozenset({"CronJob"}), "spec.startingDeadlineSeconds", (0, 2**63 - 1),
     f"{_BATCH}: validateCronJobSpec"),
    ("api.non_negative", frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}), "spec.minReadySeconds",
     (0, _INT32), f"{_APPS}: ValidateDeploymentSpec (minReadySeconds)"),
    ("api.non_negative", frozenset({"Deployment", "StatefulSet", "DaemonSet"}), "spec.revisionHistoryLimit",
     (0, _INT32), f"{_APPS}: ValidateDeploymentSpec (revisionHistoryLimit)"),
    ("api.hpa", frozenset({"HorizontalPodAutoscaler"}), "spec.minReplicas", (1, _INT32),
     f"{_AUTOSCALING}: validateHorizontalPodAutoscalerSpec (minReplicas >= 1)"),
    ("api.hpa", frozenset({"HorizontalPodAutoscaler"}), "spec.maxReplicas", (1, _INT32),
     f"{_AUTOSCALING}: validateHorizontalPodAutoscalerSpec (maxReplicas >= 1)"),
) + tuple(
    ("api.probes", _POD, f"{{ctr}}.{probe}.{field_name}", (0, _INT32), f"{_VALIDATION}: validateProbe")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe")
    for field_name in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
                       "failureThreshold")
)  # fmt: skip

# (rule id, kinds, field pattern, mirrors): values that must be well-formed, non-negative quantities.
QUANTITY_FIELDS: tuple[tuple[str, frozenset[str], str, str], ...] = (
    ("api.quantities", frozenset({"PersistentVolumeClaim"}), "spec.resources.requests.storage",
     f"{_VALIDATION}: ValidatePersistentVolumeClaimSpec (ValidateResourceQuantityValue)"),
    ("api.quantities", frozenset({"PersistentVolumeClaim"}), "spec.resources.limits.storage",
     f"{_VALIDATION}: ValidatePersistentVolumeClaimSpec"),
    ("api.quantities", frozenset({"PersistentVolume"}), "spec.capacity.storage",
     f"{_VALIDATION}: ValidatePersistentVolumeSpec (capacity)"),
    ("api.quantities", _ANY_STS, "spec.volumeClaimTemplates[*].spec.resources.requests.storage",
     f"{_VALIDATION}: ValidatePersistentVolumeClaimSpec"),
    ("api.quantities", _POD, "{pod}.volumes[*].emptyDir.sizeLimit", f"{_VALIDATION}: validateEmptyDirVolumeSource"),
    ("api.quantities", _POD, "{pod}.overhead.cpu", f"{_VALIDATION}: validateOverhead"),
)  # fmt: skip


def _enum_check(rows: list[tuple[frozenset[str], str, tuple[str, ...]]]) -> Callable[[dict, str], Iterable[Problem]]:
    def check(obj: dict, kind: str) -> Iterator[Problem]:
        for kinds, pattern, allowed in rows:
            if kind not in kinds:
                continue
            for path, value in values_at(obj, kind, pattern):
                if value is None or value == "" or value in allowed:
                    continue
                choices = ", ".join(f'"{a}"' for a in allowed)
                yield path, f"unsupported value {value!r}: supported values: {choices}"

    return check


def _range_check(rows: list[tuple[frozenset[str], str, tuple[int, int]]]) -> Callable[[dict, str], Iterable[Problem]]:
    def check(obj: dict, kind: str) -> Iterator[Problem]:
        for kinds, pattern, (low, high) in rows:
            if kind not in kinds:
                continue
            for path, value in values_at(obj, kind, pattern):
                if _is_int(value) and not low <= value <= high:
                    yield path, f"must be between {low} and {high}, inclusive (got {value})"

    return check


def _quantity_check(rows: list[tuple[frozenset[str], str]]) -> Callable[[dict, str], Iterable[Problem]]:
    def check(obj: dict, kind: str) -> Iterator[Problem]:
        for kinds, pattern in rows:
            if kind not in kinds:
                continue
            for path, value in values_at(obj, kind, pattern):
                yield from _quantity_problems(path, value)

    return check


def _quantity_problems(path: str, value: Any) -> Iterator[Problem]:
    if value is None:
        return
    amount = parse_quantity(value)
    if amount is None:
        yield path, f"quantity {value!r} is malformed: must match '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    elif amount < 0:
        yield path, f"must be greater than or equal to 0 (got {value!r})"


# --- metadata ------------------------------------------------------------------------------------------------
_NAME_DNS_LABEL = frozenset({"Namespace"})
_NAME_DNS1035 = frozenset({"Service"})
_NAME_PATH_SEGMENT = frozenset(
    {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "FlowSchema", "PriorityLevelConfiguration"}
)
_NAME_SUBDOMAIN = frozenset(
    {
        "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob",
        "ConfigMap", "Secret", "PersistentVolumeClaim", "PersistentVolume", "ServiceAccount", "Ingress",
        "IngressClass", "NetworkPolicy", "HorizontalPodAutoscaler", "PodDisruptionBudget", "StorageClass",
        "PriorityClass", "LimitRange", "ResourceQuota", "PodTemplate", "RuntimeClass", "CSIDriver", "Lease",
        "CustomResourceDefinition", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "Endpoints",
        "EndpointSlice",
    }
)  # fmt: skip


def _name_problem(kind: str, name: Any) -> str | None:
    if kind in _NAME_DNS1035:
        ok, rule = is_dns1035_label(name), "a DNS-1035 label (lower-case letters, digits, '-', starting with a letter)"
    elif kind in _NAME_DNS_LABEL:
        ok, rule = is_dns1123_label(name), "a DNS-1123 label (lower-case alphanumerics and '-', at most 63)"
    elif kind in _NAME_PATH_SEGMENT:
        ok, rule = is_path_segment_name(name), "a path segment (no '/' or '%', not '.' or '..')"
    elif kind in _NAME_SUBDOMAIN:
        ok, rule = is_dns1123_subdomain(name), "a DNS-1123 subdomain (lower-case alphanumerics, '-' and '.')"
    else:
        return None
    return None if ok else f"invalid name {name!r}: must be {rule}"


def _label_problems(path: str, labels: Any) -> Iterator[Problem]:
    if type(labels) is not dict:
        return
    for key, value in labels.items():
        if not is_qualified_name(key):
            yield f"{path}.{key}", f"invalid label key {key!r}: must be a qualified name ([prefix/]name, name <= 63)"
        if isinstance(value, str) and not is_label_value(value):
            yield f"{path}.{key}", f"invalid label value {value!r}: must be <= 63 of [-A-Za-z0-9_.], alphanumeric ends"


def _check_metadata(obj: dict, kind: str) -> Iterator[Problem]:
    meta = mapping(obj.get("metadata"))
    name = meta.get("name")
    if isinstance(name, str) and name and (problem := _name_problem(kind, name)):
        yield "metadata.name", problem
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and namespace and not is_dns1123_label(namespace):
        yield "metadata.namespace", f"invalid namespace {namespace!r}: must be a DNS-1123 label"
    yield from _label_problems("metadata.labels", meta.get("labels"))
    for key in mapping(meta.get("annotations")):
        if not is_qualified_name(str(key).lower()):
            yield f"metadata.annotations.{key}", f"invalid annotation key {key!r}: must be a qualified name"
    pod = pod_spec_path(kind)
    if pod is not None and pod != "spec":
        template_meta = pod.rsplit(".", 1)[0] + ".metadata.labels"
        for path, labels in values_at(obj, kind, template_meta):
            yield from _label_problems(path, labels)


def _check_selector_syntax(obj: dict, kind: str) -> Iterator[Problem]:
    for pattern in ("spec.selector", "spec.podSelector", "spec.jobTemplate.spec.selector"):
        for path, selector in values_at(obj, kind, pattern):
            yield from _selector_problems(path, selector, kind)
    for path, selector in values_at(obj, kind, "{pod}.topologySpreadConstraints[*].labelSelector"):
        yield from _selector_problems(path, selector, kind)


_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def _selector_problems(path: str, selector: Any, kind: str) -> Iterator[Problem]:
    if type(selector) is not dict:
        return
    if kind in ("Service", "ReplicationController"):  # plain map selectors
        yield from _label_problems(path, selector)
        return
    yield from _label_problems(f"{path}.matchLabels", selector.get("matchLabels"))
    for index, expression in enumerate(sequence(selector.get("matchExpressions"))):
        where = f"{path}.matchExpressions[{index}]"
        expression = mapping(expression)
        operator, values = expression.get("operator"), sequence(expression.get("values"))
        if not is_qualified_name(expression.get("key")):
            yield f"{where}.key", f"invalid label key {expression.get('key')!r}"
        if operator not in _SELECTOR_OPERATORS:
            yield f"{where}.operator", f"not a valid selector operator: {operator!r} (In, NotIn, Exists, DoesNotExist)"
        elif operator in ("In", "NotIn") and not values:
            yield f"{where}.values", "must be specified when `operator` is 'In' or 'NotIn'"
        elif operator in ("Exists", "DoesNotExist") and values:
            yield f"{where}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"


# --- pod spec ------------------------------------------------------------------------------------------------
_last_containers: tuple[Any, list[tuple[str, str, dict]]] = (None, [])


def _containers(obj: dict, kind: str) -> list[tuple[str, str, dict]]:
    """``(path, list name, container)`` of every container of the pod spec.

    Nine rules read the containers of the same object in a row: the last answer is kept (one entry, checked by
    identity, replaced atomically), so the pod spec is walked once per object.
    """
    global _last_containers
    cached_obj, cached = _last_containers
    if cached_obj is obj:
        return cached
    found: list[tuple[str, str, dict]] = []
    pod = pod_spec_path(kind)
    if pod is not None:
        for list_name in _CONTAINER_LISTS:
            for path, container in _walk(obj, _split(f"{pod}.{list_name}[*]")):
                if type(container) is dict:
                    found.append((path, list_name, container))
    _last_containers = (obj, found)
    return found


def _pod_spec(obj: dict, kind: str) -> tuple[str, Any] | None:
    pod = pod_spec_path(kind)
    if pod is None:
        return None
    node: Any = obj
    for key in pod.split("."):
        if type(node) is not dict:
            return pod, None
        node = node.get(key)
    return pod, node


def _check_pod_required(obj: dict, kind: str) -> Iterator[Problem]:
    found = _pod_spec(obj, kind)
    if found is None:
        return
    path, spec = found
    template = path.rsplit(".", 1)[0]
    if kind == "PodTemplate" and "template" not in obj:
        return  # a PodTemplate may leave its template empty (the API server accepts it)
    if type(spec) is not dict:
        if kind != "Pod":
            yield path, f"Required value: {template} needs a pod spec with containers"
        return
    if not sequence(spec.get("containers")):
        yield f"{path}.containers", "Required value: the pod spec must have at least one container"
    for cpath, list_name, container in _containers(obj, kind):
        if not container.get("name"):
            yield f"{cpath}.name", "Required value: every container needs a name"
        if list_name != "ephemeralContainers" and not container.get("image"):
            yield f"{cpath}.image", "Required value: every container needs an image"


def _check_container_names(obj: dict, kind: str) -> Iterator[Problem]:
    seen: set[str] = set()
    for cpath, _, container in _containers(obj, kind):
        name = container.get("name")
        if not isinstance(name, str) or not name:
            continue
        if not is_dns1123_label(name):
            yield f"{cpath}.name", f"invalid container name {name!r}: must be a DNS-1123 label"
        if name in seen:
            yield f"{cpath}.name", f"Duplicate value: container name {name!r} is used twice in the pod"
        seen.add(name)


def _check_container_ports(obj: dict, kind: str) -> Iterator[Problem]:
    for cpath, _, container in _containers(obj, kind):
        names: set[str] = set()
        for index, port in enumerate(sequence(container.get("ports"))):
            name = mapping(port).get("name")
            if name is None or name == "":
                continue
            where = f"{cpath}.ports[{index}].name"
            if not is_iana_svc_name(name):
                yield where, f"invalid port name {name!r}: must be an IANA_SVC_NAME (<= 15 of [-a-z0-9], a letter)"
            elif name in names:
                yield where, f"Duplicate value: port name {name!r} is used twice in the container"
            names.add(str(name))


def _check_volumes(obj: dict, kind: str) -> Iterator[Problem]:
    found = _pod_spec(obj, kind)
    if found is None or type(found[1]) is not dict:
        return
    path, spec = found
    volumes: set[str] = set()
    for index, volume in enumerate(sequence(spec.get("volumes"))):
        name = mapping(volume).get("name")
        where = f"{path}.volumes[{index}].name"
        if not isinstance(name, str) or not name:
            yield where, "Required value: every volume needs a name"
        elif not is_dns1123_label(name):
            yield where, f"invalid volume name {name!r}: must be a DNS-1123 label"
        elif name in volumes:
            yield where, f"Duplicate value: volume name {name!r} is used twice"
        else:
            volumes.add(name)
    if kind == "StatefulSet":  # each volumeClaimTemplate becomes a volume of the same name in every pod
        for _, claim in values_at(obj, kind, "spec.volumeClaimTemplates[*].metadata.name"):
            volumes.add(claim)
    for cpath, _, container in _containers(obj, kind):
        mount_paths: set[str] = set()
        for index, mount in enumerate(sequence(container.get("volumeMounts"))):
            mount = mapping(mount)
            name, mount_path = mount.get("name"), mount.get("mountPath")
            where = f"{cpath}.volumeMounts[{index}]"
            if isinstance(name, str) and name and name not in volumes:
                yield f"{where}.name", f"Not found: no volume named {name!r} in the pod spec"
            if not mount_path:
                yield f"{where}.mountPath", "Required value"
            elif isinstance(mount_path, str):
                if mount_path in mount_paths:
                    yield f"{where}.mountPath", f"must be unique: {mount_path!r} is mounted twice"
                mount_paths.add(mount_path)


_STANDARD_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage", "storage"})


def _check_resources(obj: dict, kind: str) -> Iterator[Problem]:
    for cpath, _, container in _containers(obj, kind):
        resources = mapping(container.get("resources"))
        requests, limits = mapping(resources.get("requests")), mapping(resources.get("limits"))
        parsed: dict[str, dict[str, Decimal]] = {"requests": {}, "limits": {}}
        for section, values in (("requests", requests), ("limits", limits)):
            for resource, value in values.items():
                where = f"{cpath}.resources.{section}.{resource}"
                resource = str(resource)
                if resource not in _STANDARD_RESOURCES and not resource.startswith("hugepages-"):
                    if "/" not in resource or not is_qualified_name(resource):
                        yield where, f"invalid resource name {resource!r}: must be a standard resource or a " \
                            "fully qualified name (e.g. nvidia.com/gpu)"
                        continue
                problems = list(_quantity_problems(where, value))
                yield from problems
                amount = parse_quantity(value)
                if not problems and amount is not None:
                    parsed[section][resource] = amount
        for resource, request in parsed["requests"].items():
            limit = parsed["limits"].get(resource)
            where = f"{cpath}.resources.requests.{resource}"
            if limit is not None and request > limit:
                yield where, f"must be less than or equal to {resource} limit of {limits[resource]}"
            if _overcommit_forbidden(resource):
                if limit is None:
                    yield where, f"Required value: limit must be set for non-overcommitable resource {resource}"
                elif limit != request:
                    yield where, f"must be equal to {resource} limit of {limits[resource]} (not overcommitable)"
        for section in ("requests", "limits"):
            for resource, amount in parsed[section].items():
                if "/" in resource and _overcommit_forbidden(resource) and amount != amount.to_integral_value():
                    yield f"{cpath}.resources.{section}.{resource}", "must be an integer (extended resource)"


def _overcommit_forbidden(resource: str) -> bool:
    """``!IsOvercommitAllowed``: extended resources (a domain outside kubernetes.io, e.g. nvidia.com/gpu) and
    hugepages can only be requested as much as their limit."""
    if resource.startswith("hugepages-"):
        return True
    domain = resource.split("/", 1)[0] if "/" in resource else ""
    return bool(domain) and domain != "kubernetes.io" and not domain.endswith(".kubernetes.io")


def _check_restart_policy(obj: dict, kind: str) -> Iterator[Problem]:
    found = _pod_spec(obj, kind)
    if found is None or type(found[1]) is not dict:
        return
    path, spec = found
    policy = spec.get("restartPolicy")
    if kind in ("Job", "CronJob"):
        if policy in (None, ""):
            yield f"{path}.restartPolicy", 'Required value: valid values: "OnFailure", "Never"'
        elif policy == "Always":
            yield f"{path}.restartPolicy", 'Unsupported value: "Always": supported values: "OnFailure", "Never"'
    elif kind in _CONTROLLER_KINDS and policy not in (None, "", "Always"):
        yield f"{path}.restartPolicy", f'Unsupported value: {policy!r}: supported values: "Always"'


# Only the literal "CAP_SYS_ADMIN" is refused next to allowPrivilegeEscalation: false (ValidateSecurityContext compares
# the string); "SYS_ADMIN", the usual spelling, is accepted (MetalLB's speaker ships it), so it must stay valid here.
_SYS_ADMIN = ("CAP_SYS_ADMIN",)


def _check_security_context(obj: dict, kind: str) -> Iterator[Problem]:
    found = _pod_spec(obj, kind)
    if found is None or type(found[1]) is not dict:
        return
    for cpath, _, container in _containers(obj, kind):
        sc = mapping(container.get("securityContext"))
        if sc.get("allowPrivilegeEscalation") is False:
            added = [str(c) for c in sequence(mapping(sc.get("capabilities")).get("add"))]
            if sc.get("privileged") is True:
                yield f"{cpath}.securityContext", \
                    "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
            elif any(c in _SYS_ADMIN for c in added):
                yield f"{cpath}.securityContext", \
                    "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"


def _check_run_as_non_root(obj: dict, kind: str) -> Iterator[Problem]:
    found = _pod_spec(obj, kind)
    if found is None or type(found[1]) is not dict:
        return
    pod_sc = mapping(found[1].get("securityContext"))
    for cpath, _, container in _containers(obj, kind):
        sc = mapping(container.get("securityContext"))
        non_root = sc.get("runAsNonRoot") if sc.get("runAsNonRoot") is not None else pod_sc.get("runAsNonRoot")
        user = sc.get("runAsUser") if sc.get("runAsUser") is not None else pod_sc.get("runAsUser")
        if non_root is True and _is_int(user) and user == 0:
            yield f"{cpath}.securityContext", \
                "runAsNonRoot: true with runAsUser: 0 (the kubelet refuses to start it: container's runAsUser " \
                "breaks non-root policy)"


_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")


def _check_probes(obj: dict, kind: str) -> Iterator[Problem]:
    for cpath, _, container in _containers(obj, kind):
        for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
            probe = container.get(probe_name)
            if type(probe) is not dict:
                continue
            where = f"{cpath}.{probe_name}"
            handlers = [h for h in _PROBE_HANDLERS if probe.get(h) is not None]
            if not handlers:
                yield where, "Required value: must specify a handler type (exec, httpGet, tcpSocket or grpc)"
            elif len(handlers) > 1:
                yield where, f"Forbidden: may not specify more than 1 handler type ({', '.join(handlers)})"
            threshold = probe.get("successThreshold")
            if probe_name != "readinessProbe" and _is_int(threshold) and threshold not in (0, 1):
                yield f"{where}.successThreshold", "must be 1"
            for handler in ("httpGet", "tcpSocket"):
                port = mapping(probe.get(handler)).get("port")
                if isinstance(port, str) and not is_iana_svc_name(port) and not port.isdigit():
                    yield f"{where}.{handler}.port", f"invalid port name {port!r}: must be an IANA_SVC_NAME"
                if handler == "httpGet" and probe.get(handler) is not None and port is None:
                    yield f"{where}.httpGet.port", "Required value"
                if handler == "tcpSocket" and probe.get(handler) is not None and port is None:
                    yield f"{where}.tcpSocket.port", "Required value"


def _check_env(obj: dict, kind: str) -> Iterator[Problem]:
    for cpath, _, container in _containers(obj, kind):
        for index, env in enumerate(sequence(container.get("env"))):
            env = mapping(env)
            if not env.get("name"):
                yield f"{cpath}.env[{index}].name", "Required value"
            if env.get("value") not in (None, "") and env.get("valueFrom") is not None:
                yield f"{cpath}.env[{index}].valueFrom", "may not be specified when `value` is not empty"


def _check_topology_spread(obj: dict, kind: str) -> Iterator[Problem]:
    for path, constraint in values_at(obj, kind, "{pod}.topologySpreadConstraints[*]"):
        constraint = mapping(constraint)
        skew = constraint.get("maxSkew")
        if not _is_int(skew) or skew <= 0:
            yield f"{path}.maxSkew", f"must be greater than zero (got {skew!r})"
        if not constraint.get("topologyKey"):
            yield f"{path}.topologyKey", "Required value: can not be empty"
        if not constraint.get("whenUnsatisfiable"):
            yield f"{path}.whenUnsatisfiable", 'Required value: "DoNotSchedule" or "ScheduleAnyway"'


# --- controllers ---------------------------------------------------------------------------------------------
_APPS_SELECTOR_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})


def _check_selector_matches(obj: dict, kind: str) -> Iterator[Problem]:
    if obj.get("apiVersion") != "apps/v1":
        return
    spec = mapping(obj.get("spec"))
    selector = spec.get("selector")
    labels = mapping(mapping(spec.get("template")).get("metadata")).get("labels")
    if type(selector) is not dict:
        return  # a missing selector is the schema's error (required in apps/v1)
    if selector_is_empty(selector):
        yield "spec.selector", "Invalid value: empty selector is invalid for this kind"
    elif not selector_matches(selector, labels):
        yield "spec.template.metadata.labels", "Invalid value: `selector` does not match template `labels`"


def _check_rc_selector(obj: dict, kind: str) -> Iterator[Problem]:
    spec = mapping(obj.get("spec"))
    selector = spec.get("selector")
    labels = mapping(mapping(mapping(spec.get("template")).get("metadata")).get("labels"))
    if type(selector) is dict and selector:
        if any(labels.get(k) != v for k, v in selector.items()):
            yield "spec.template.metadata.labels", "Invalid value: `selector` does not match template `labels`"


def _check_deployment_strategy(obj: dict, kind: str) -> Iterator[Problem]:
    strategy = mapping(mapping(obj.get("spec")).get("strategy"))
    rolling = strategy.get("rollingUpdate")
    if strategy.get("type") == "Recreate" and rolling is not None:
        yield "spec.strategy.rollingUpdate", "Forbidden: may not be specified when strategy `type` is 'Recreate'"
    rolling = mapping(rolling)
    surge, unavailable = rolling.get("maxSurge"), rolling.get("maxUnavailable")
    if surge in (0, "0%") and unavailable in (0, "0%"):
        yield "spec.strategy.rollingUpdate.maxUnavailable", "Invalid value: may not be 0 when `maxSurge` is 0"
    for key, value in (("maxSurge", surge), ("maxUnavailable", unavailable)):
        if isinstance(value, str) and not re.fullmatch(r"[0-9]+%", value):
            yield f"spec.strategy.rollingUpdate.{key}", f"Invalid value: {value!r}: must be an integer or percentage"
        elif _is_int(value) and value < 0:
            yield f"spec.strategy.rollingUpdate.{key}", "must be greater than or equal to 0"


# --- cron ----------------------------------------------------------------------------------------------------
_CRON_DESCRIPTORS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_DAYS = {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}
# (low, high, names) per field of robfig/cron's standard parser: minute, hour, day of month, month, day of week
_CRON_FIELDS = ((0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (0, 6, _DAYS))
_DURATION_RE = re.compile(r"([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+")


def _cron_value(text: str, low: int, high: int, names: dict[str, int]) -> int | None:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        return None
    value = int(text)
    return value if low <= value <= high else None


def cron_problem(schedule: Any) -> str | None:
    """Why a CronJob schedule is not accepted (robfig/cron's standard parser, as ``validateScheduleFormat``)."""
    if not isinstance(schedule, str) or not schedule.strip():
        return "Required value: a cron schedule"
    text = schedule.strip()
    if "TZ" in text:
        return "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
    if text.startswith("@"):
        if text in _CRON_DESCRIPTORS:
            return None
        if text.startswith("@every ") and _DURATION_RE.fullmatch(text[7:].strip()):
            return None
        return f"unrecognized descriptor: {text}"
    fields = text.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: {text}"
    for index, (field_text, (low, high, names)) in enumerate(zip(fields, _CRON_FIELDS)):
        for part in field_text.split(","):
            range_text, _, step = part.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                return f"invalid step {step!r} in {field_text!r}"
            if range_text in ("*", "?"):
                if range_text == "?" and index not in (2, 4):
                    return f"'?' is only allowed in day fields, not in {field_text!r}"
                continue
            start, dash, end = range_text.partition("-")
            first = _cron_value(start, low, high, names)
            last = _cron_value(end, low, high, names) if dash else first
            if first is None or last is None:
                return f"value out of range or malformed in {field_text!r} (allowed {low}-{high})"
            if first > last:
                return f"beginning of range ({first}) beyond end of range ({last}): {field_text!r}"
    return None


def _check_cron(obj: dict, kind: str) -> Iterator[Problem]:
    spec = mapping(obj.get("spec"))
    if "schedule" in spec and (problem := cron_problem(spec.get("schedule"))):
        yield "spec.schedule", problem
    name = mapping(obj.get("metadata")).get("name")
    if isinstance(name, str) and len(name) > 52:
        yield "metadata.name", "must be no more than 52 characters (the CronJob controller appends 11)"


# --- services, storage, config -------------------------------------------------------------------------------
def _check_service(obj: dict, kind: str) -> Iterator[Problem]:
    spec = mapping(obj.get("spec"))
    service_type = spec.get("type") or "ClusterIP"
    ports = sequence(spec.get("ports"))
    headless = spec.get("clusterIP") == "None"
    if service_type == "ExternalName":
        if not spec.get("externalName"):
            yield "spec.externalName", "Required value: needed for a Service of type ExternalName"
    elif not ports and not headless:
        yield "spec.ports", "Required value: a Service needs at least one port (unless headless or ExternalName)"
    names: set[Any] = set()
    seen: set[tuple[Any, Any]] = set()
    for index, port in enumerate(ports):
        port = mapping(port)
        where = f"spec.ports[{index}]"
        name = port.get("name")
        if len(ports) > 1 and not name:
            yield f"{where}.name", "Required value: every port needs a name when a Service has more than one"
        elif name:
            if not is_dns1123_label(name):
                yield f"{where}.name", f"invalid port name {name!r}: must be a DNS-1123 label"
            if name in names:
                yield f"{where}.name", f"Duplicate value: {name!r}"
            names.add(name)
        key = (port.get("port"), port.get("protocol") or "TCP")
        if key[0] is not None and key in seen:
            yield where, f"Duplicate value: port {key[0]}/{key[1]} is listed twice"
        seen.add(key)
        target = port.get("targetPort")
        if isinstance(target, str) and not target.isdigit() and not is_iana_svc_name(target):
            yield f"{where}.targetPort", f"invalid port name {target!r}: must be an IANA_SVC_NAME"
        if service_type == "ClusterIP" and _is_int(port.get("nodePort")) and port.get("nodePort"):
            yield f"{where}.nodePort", "Forbidden: may not be used when `type` is 'ClusterIP'"
    yield from _label_problems("spec.selector", spec.get("selector"))


def _check_pvc_spec(path: str, spec: Any) -> Iterator[Problem]:
    spec = mapping(spec)
    if not sequence(spec.get("accessModes")):
        yield f"{path}.accessModes", "Required value: at least 1 access mode is required"
    requests = mapping(mapping(spec.get("resources")).get("requests"))
    if "storage" not in requests:
        yield f"{path}.resources.requests.storage", "Required value: a storage request is required"


def _check_pvc(obj: dict, kind: str) -> Iterator[Problem]:
    if kind == "PersistentVolumeClaim":
        yield from _check_pvc_spec("spec", obj.get("spec"))
    else:
        for path, template in values_at(obj, kind, "spec.volumeClaimTemplates[*]"):
            yield from _check_pvc_spec(f"{path}.spec", mapping(template).get("spec"))


def _check_pv(obj: dict, kind: str) -> Iterator[Problem]:
    spec = mapping(obj.get("spec"))
    if not sequence(spec.get("accessModes")):
        yield "spec.accessModes", "Required value: at least 1 access mode is required"
    if "storage" not in mapping(spec.get("capacity")):
        yield "spec.capacity.storage", "Required value: a storage capacity is required"


_SECRET_REQUIRED_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


def _check_config_data(obj: dict, kind: str) -> Iterator[Problem]:
    data, binary = mapping(obj.get("data")), mapping(obj.get("binaryData"))
    string_data = mapping(obj.get("stringData"))
    for section, values in (("data", data), ("binaryData", binary), ("stringData", string_data)):
        for key in values:
            if isinstance(key, int) and not isinstance(key, bool):
                key = str(key)  # `53: udp-svc` is the JSON key "53" once kubectl converts the YAML
            if not is_config_map_key(key):
                yield f"{section}.{key}", f"invalid key {key!r}: must consist of alphanumerics, '-', '_' or '.'"
    for key in set(data) & set(binary):
        yield f"binaryData.{key}", f"Invalid value: duplicate of key {key!r} in data"
    base64_sections = (("data", data),) if kind == "Secret" else (("binaryData", binary),)
    for section, values in base64_sections:
        for key, value in values.items():
            if isinstance(value, str) and not _is_base64(value):
                yield f"{section}.{key}", "illegal base64 data: Secret data values must be base64-encoded " \
                    "(use stringData for plain text)"
    if kind == "Secret":
        required = _SECRET_REQUIRED_KEYS.get(obj.get("type"))  # type: ignore[arg-type]
        for key in required or ():
            if key not in data and key not in string_data:
                yield f"data[{key}]", f"Required value: a Secret of type {obj.get('type')} needs {key!r}"


def _is_base64(value: str) -> bool:
    compact = "".join(value.split())
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _check_ingress(obj: dict, kind: str) -> Iterator[Problem]:
    if obj.get("apiVersion") != "networking.k8s.io/v1":
        return
    for path, http_path in values_at(obj, kind, "spec.rules[*].http.paths[*]"):
        http_path = mapping(http_path)
        path_type, value = http_path.get("pathType"), http_path.get("path")
        if not path_type:
            yield f"{path}.pathType", "Required value: pathType must be specified"
        elif path_type in ("Exact", "Prefix") and (not isinstance(value, str) or not value.startswith("/")):
            yield f"{path}.path", f"Invalid value: {value!r}: must be an absolute path"
        service = mapping(mapping(http_path.get("backend")).get("service"))
        port = mapping(service.get("port"))
        if service and ("name" in port) == ("number" in port):
            yield f"{path}.backend.service.port", "Invalid value: exactly one of port name or number is required"
    for path, host in values_at(obj, kind, "spec.rules[*].host"):
        if isinstance(host, str) and host:
            bare = host[2:] if host.startswith("*.") else host
            if not is_dns1123_subdomain(bare) or re.fullmatch(r"[0-9.]+", bare):
                yield path, f"Invalid value: {host!r}: must be a DNS-1123 subdomain (wildcard '*.' allowed), not an IP"


def _check_storage_class(obj: dict, kind: str) -> Iterator[Problem]:
    provisioner = obj.get("provisioner")
    if not provisioner:
        yield "provisioner", "Required value"
    elif not is_qualified_name(str(provisioner).lower()):
        yield "provisioner", f"Invalid value: {provisioner!r}: must be a qualified name (e.g. ebs.csi.aws.com)"
    for key in mapping(obj.get("parameters")):
        if not isinstance(key, str) or not key:
            yield "parameters", "Invalid value: parameter names must be non-empty strings"


def _check_hpa(obj: dict, kind: str) -> Iterator[Problem]:
    spec = mapping(obj.get("spec"))
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
    if _is_int(low) and _is_int(high) and high < low:
        yield "spec.maxReplicas", f"Invalid value: {high}: must be greater than or equal to `minReplicas` ({low})"


def _check_pdb(obj: dict, kind: str) -> Iterator[Problem]:
    spec = mapping(obj.get("spec"))
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        yield "spec", "Invalid value: minAvailable and maxUnavailable cannot be both set"


# ------------------------------------------------------------------------------------------------ the registry
def _group_rows(table: tuple, width: int) -> dict[str, tuple[list, str]]:
    grouped: dict[str, tuple[list, str]] = {}
    for row in table:
        rule_id, mirrors = row[0], row[-1]
        rows, first = grouped.setdefault(rule_id, ([], mirrors))
        rows.append(tuple(row[1:width]))
        if mirrors not in first:
            grouped[rule_id] = (rows, first + "; " + mirrors)
    return grouped


def _union(rows: list) -> frozenset[str]:
    return frozenset().union(*(row[0] for row in rows))


_TABLE_TITLES = {
    "api.service_enums": "Service type, traffic policies, session affinity and IP families are known values",
    "api.protocol": "Port protocols are TCP, UDP or SCTP",
    "api.access_modes": "Access modes are ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod",
    "api.volume_enums": "Volume modes, reclaim policies and binding modes are known values",
    "api.restart_policy": "restartPolicy is Always, OnFailure or Never",
    "api.pod_enums": "Pod-level enums (dnsPolicy, tolerations, spread, seccomp, preemption) are known values",
    "api.container_enums": "Container enums (imagePullPolicy, terminationMessagePolicy, seccomp, propagation)",
    "api.controller_enums": "Controller strategies and policies are known values",
    "api.ingress_paths": "Ingress paths have a pathType, absolute paths and one backend port",
    "api.network_policy": "NetworkPolicy policyTypes are Ingress or Egress",
    "api.hpa": "HPA replica bounds and metric types are valid",
    "api.pdb": "PodDisruptionBudget sets at most one of minAvailable / maxUnavailable",
    "api.port_range": "Ports are within 1-65535 (hostPort/nodePort/targetPort: 0 = unset)",
    "api.non_negative": "Counts, IDs and durations are not negative",
    "api.probes": "Probe timings are not negative",
    "api.quantities": "Storage and size quantities are well-formed and not negative",
}


def _build_rules() -> tuple[ApiRule, ...]:
    rules: list[ApiRule] = []
    for rule_id, (rows, mirrors) in _group_rows(ENUM_FIELDS, 4).items():
        rules.append(ApiRule(rule_id, _TABLE_TITLES[rule_id], _union(rows), mirrors, _enum_check(rows), True))
    for rule_id, (rows, mirrors) in _group_rows(RANGE_FIELDS, 4).items():
        rule_id_range = rule_id if rule_id not in {r.id for r in rules} else f"{rule_id}_range"
        rules.append(ApiRule(rule_id_range, _TABLE_TITLES[rule_id], _union(rows), mirrors, _range_check(rows), True))
    for rule_id, (rows, mirrors) in _group_rows(QUANTITY_FIELDS, 3).items():
        rules.append(ApiRule(rule_id, _TABLE_TITLES[rule_id], _union(rows), mirrors, _quantity_check(rows), True))
    return tuple(rules)


_ALL: frozenset[str] = frozenset()
_PVC_KINDS = frozenset({"PersistentVolumeClaim", "StatefulSet"})

API_RULES: tuple[ApiRule, ...] = _build_rules() + (
    ApiRule("api.metadata_names", "Names, namespaces, label and annotation keys have the API server's syntax",
            _ALL, f"{_META}: ValidateObjectMeta, ValidateLabels, ValidateAnnotations; {_UTIL}: IsDNS1123Subdomain",
            _check_metadata),
    ApiRule("api.label_selectors", "Label selectors have valid keys, values, operators and values lists",
            _ALL, "staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go: "
            "ValidateLabelSelectorRequirement", _check_selector_syntax),
    ApiRule("api.pod_required", "A pod spec has containers, each with a name and an image", POD_KINDS,
            f"{_VALIDATION}: ValidatePodSpec, validateContainers (Required value)", _check_pod_required),
    ApiRule("api.container_names", "Container names are DNS-1123 labels, unique across the pod", POD_KINDS,
            f"{_VALIDATION}: validateContainers, validateInitContainers (allNames)", _check_container_names),
    ApiRule("api.container_ports", "Container port names are IANA service names, unique in the container",
            POD_KINDS, f"{_VALIDATION}: validateContainerPorts", _check_container_ports),
    ApiRule("api.volumes", "Volume names are unique DNS-1123 labels; mounts name a volume; mount paths unique",
            POD_KINDS, f"{_VALIDATION}: ValidateVolumes, ValidateVolumeMounts", _check_volumes),
    ApiRule("api.resources", "Resource names and quantities are valid; requests <= limits; extended resources "
            "request = limit", POD_KINDS, f"{_VALIDATION}: ValidateResourceRequirements", _check_resources),
    ApiRule("api.job_restart_policy", "Job pods restart OnFailure or Never; controller pods Always",
            POD_KINDS, f"{_BATCH}: validateJobSpec (restartPolicy); {_APPS}: ValidatePodTemplateSpecForReplicaSet",
            _check_restart_policy),
    ApiRule("api.security_context_conflicts", "No allowPrivilegeEscalation: false with privileged or CAP_SYS_ADMIN",
            POD_KINDS, f"{_VALIDATION}: ValidateSecurityContext (AllowPrivilegeEscalation)",
            _check_security_context),
    ApiRule("api.run_as_non_root_uid_0", "No runAsNonRoot: true with runAsUser: 0 (refused by the kubelet)",
            POD_KINDS, "pkg/kubelet/kuberuntime/security_context_others.go: verifyRunAsNonRoot",
            _check_run_as_non_root),
    ApiRule("api.probe_handlers", "A probe has exactly one handler; liveness/startup successThreshold is 1",
            POD_KINDS, f"{_VALIDATION}: validateProbe, validateHandler", _check_probes),
    ApiRule("api.env", "env entries have a name and not both value and valueFrom", POD_KINDS,
            f"{_VALIDATION}: ValidateEnv", _check_env),
    ApiRule("api.topology_spread", "topologySpreadConstraints have maxSkew > 0, a topologyKey and a policy",
            POD_KINDS, f"{_VALIDATION}: validateTopologySpreadConstraints", _check_topology_spread),
    ApiRule("api.selector_matches_template", "apps/v1 selector is non-empty and matches the template labels",
            _APPS_SELECTOR_KINDS, f"{_APPS}: ValidateDeploymentSpec / ValidateStatefulSetSpec / "
            "ValidateDaemonSetSpec / ValidateReplicaSetSpec", _check_selector_matches),
    ApiRule("api.rc_selector_matches_template", "ReplicationController selector matches the template labels",
            frozenset({"ReplicationController"}), f"{_VALIDATION}: ValidateReplicationControllerSpec",
            _check_rc_selector),
    ApiRule("api.deployment_strategy", "Recreate has no rollingUpdate; maxSurge and maxUnavailable not both 0",
            frozenset({"Deployment"}), f"{_APPS}: ValidateDeploymentStrategy, ValidateRollingUpdateDeployment",
            _check_deployment_strategy),
    ApiRule("api.cron_schedule", "CronJob schedule parses as a 5-field cron or descriptor; name <= 52",
            frozenset({"CronJob"}), f"{_BATCH}: validateScheduleFormat, ValidateCronJobCreate (name length)",
            _check_cron),
    ApiRule("api.service", "Service ports: required, named when several, unique; ExternalName has a name",
            frozenset({"Service"}), f"{_VALIDATION}: ValidateService, validateServicePort", _check_service),
    ApiRule("api.pvc_required", "PVCs (and claim templates) have access modes and a storage request",
            _PVC_KINDS, f"{_VALIDATION}: ValidatePersistentVolumeClaimSpec", _check_pvc),
    ApiRule("api.pv_required", "PersistentVolumes have access modes and a storage capacity",
            frozenset({"PersistentVolume"}), f"{_VALIDATION}: ValidatePersistentVolumeSpec", _check_pv),
    ApiRule("api.config_data", "ConfigMap/Secret keys are valid; Secret data is base64; typed Secrets have "
            "their keys", frozenset({"ConfigMap", "Secret"}),
            f"{_VALIDATION}: ValidateConfigMap, ValidateSecret", _check_config_data),
    ApiRule("api.ingress", "networking.k8s.io/v1 Ingress paths and hosts are valid", frozenset({"Ingress"}),
            f"{_NETWORKING}: validateHTTPIngressPath, validateIngressRules", _check_ingress),
    ApiRule("api.storage_class", "StorageClass provisioner is a qualified name", frozenset({"StorageClass"}),
            f"{_STORAGE}: ValidateStorageClass, validateProvisioner", _check_storage_class),
    ApiRule("api.hpa_bounds", "HPA maxReplicas >= minReplicas", frozenset({"HorizontalPodAutoscaler"}),
            f"{_AUTOSCALING}: validateHorizontalPodAutoscalerSpec", _check_hpa),
    ApiRule("api.pdb_exclusive", "PDB sets at most one of minAvailable and maxUnavailable",
            frozenset({"PodDisruptionBudget"}), f"{_POLICY}: ValidatePodDisruptionBudgetSpec", _check_pdb),
)  # fmt: skip

API_RULES_BY_ID: dict[str, ApiRule] = {rule.id: rule for rule in API_RULES}
if len(API_RULES_BY_ID) != len(API_RULES):  # pragma: no cover - guards the registry when it is edited
    raise RuntimeError("duplicate rule id in k8s_scoring.api_rules.API_RULES")

_RULES_FOR_KIND: dict[str, tuple[ApiRule, ...]] = {}
_LEAF = ""  # trie key of the checks at a node (never a field name: field names are non-empty)


def rules_for(kind: str) -> tuple[ApiRule, ...]:
    """The rules that apply to a built-in ``kind`` (cached)."""
    rules = _RULES_FOR_KIND.get(kind)
    if rules is None:
        rules = tuple(rule for rule in API_RULES if not rule.kinds or kind in rule.kinds)
        _RULES_FOR_KIND[kind] = rules
    return rules


def _enum_messages(allowed: tuple[str, ...]) -> Callable[[Any], list[str]]:
    choices = ", ".join(f'"{a}"' for a in allowed)

    def messages(value: Any) -> list[str]:
        if value is None or value == "" or value in allowed:
            return []
        return [f"unsupported value {value!r}: supported values: {choices}"]

    return messages


def _range_messages(low: int, high: int) -> Callable[[Any], list[str]]:
    def messages(value: Any) -> list[str]:
        if _is_int(value) and not low <= value <= high:
            return [f"must be between {low} and {high}, inclusive (got {value})"]
        return []

    return messages


def _quantity_messages(value: Any) -> list[str]:
    return [message for _, message in _quantity_problems("", value)]


@lru_cache(maxsize=256)
def _table_trie(kind: str) -> dict:
    """Every field-table row for ``kind`` merged into one trie of path parts, so `check_object` walks the object once
    (only along paths that exist) instead of once per row; same results as the rules' own `check` functions."""
    range_ids = {rule.id for rule in API_RULES if rule.table}
    root: dict = {}

    def insert(pattern: str, rule_id: str, messages: Callable[[Any], list[str]]) -> None:
        for parts in _expand(pattern, kind):
            node = root
            for part in parts:
                node = node.setdefault(part, {})
            node.setdefault(_LEAF, []).append((rule_id, messages))

    for rule_id, kinds, pattern, allowed, _ in ENUM_FIELDS:
        if kind in kinds:
            insert(pattern, rule_id, _enum_messages(allowed))
    enum_ids = {row[0] for row in ENUM_FIELDS}
    for rule_id, kinds, pattern, (low, high), _ in RANGE_FIELDS:
        if kind in kinds:
            final_id = f"{rule_id}_range" if rule_id in enum_ids else rule_id
            if final_id not in range_ids:  # pragma: no cover - guards the id scheme of `_build_rules`
                raise RuntimeError(f"range rule {final_id} is not registered")
            insert(pattern, final_id, _range_messages(low, high))
    for rule_id, kinds, pattern, _ in QUANTITY_FIELDS:
        if kind in kinds:
            insert(pattern, rule_id, _quantity_messages)
    return root


def _walk_trie(node: Any, trie: dict, path: str, out: list[tuple[str, str, str]]) -> None:
    leaves = trie.get(_LEAF)
    if leaves:
        for rule_id, messages in leaves:
            for message in messages(node):
                out.append((rule_id, path, message))
    if type(node) is dict:
        for key, sub in trie.items():
            if key and key != "[*]" and key in node:
                _walk_trie(node[key], sub, f"{path}.{key}" if path else key, out)
    elif type(node) is list:
        sub = trie.get("[*]")
        if sub is not None:
            for index, item in enumerate(node):
                _walk_trie(item, sub, f"{path}[{index}]", out)


def check_object(obj: dict, kind: str) -> list[tuple[str, str, str]]:
    """Run every API-server rule on one built-in object; never raises on odd shapes.

    Args:
        obj: The object mapping (already valid against its OpenAPI schema, or not: rules read defensively).
        kind: Its kind.

    Returns:
        ``(rule id, path, message)`` per problem: the field tables first (one walk), then the structural rules.
    """
    problems: list[tuple[str, str, str]] = []
    try:
        _walk_trie(obj, _table_trie(kind), "", problems)
    except (TypeError, ValueError, RecursionError):  # an odd shape (unhashable value ...): the schema reports it
        logger.debug("field tables skipped for %s", kind, exc_info=True)
    for rule in rules_for(kind):
        if not rule.table:
            try:
                problems.extend((rule.id, path, message) for path, message in rule.check(obj, kind))
            except (TypeError, ValueError, AttributeError, RecursionError):  # see above: never raise on user input
                logger.debug("%s skipped on an odd shape", rule.id, exc_info=True)
    return problems
