"""The checks of ``shared/docs/k8s_checks.md`` as data: frozen `Check` records in one explicit registry, `CHECKS`.

A check reads one `ObjectContext` (the object, its `PodView`, and input-wide facts such as HPA targets) and returns a
`CheckResult` plus, when it fails, the offending places ("container \"web\": no livenessProbe"). Container checks are
built by `_container_check` from a per-container predicate, so "fails if any container in its scope fails" and
"n/a for non-workloads" are written once. Ids are public and stable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .podspec import Container, PodView, mapping, sequence
from .selectors import selector_is_empty, selector_matches


class CheckResult(str, Enum):
    """Outcome of one check on one object; compares equal to ``"pass"`` / ``"fail"`` / ``"n/a"``."""

    PASS = "pass"
    FAIL = "fail"
    NA = "n/a"

    def __str__(self) -> str:
        return self.value


PASS, FAIL, NA = CheckResult.PASS, CheckResult.FAIL, CheckResult.NA

Outcome = tuple[CheckResult, tuple[str, ...]]

# Kinds without a namespace (n/a for bp.explicit_namespace): built-in cluster-scoped kinds of Kubernetes 1.33 plus the
# cluster-scoped custom resources of widely used projects (cert-manager, KEDA, Kueue, Gateway API, Kyverno, ...).
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
        "CustomResourceDefinition", "PriorityClass", "RuntimeClass", "IngressClass", "APIService",
        "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
        "CertificateSigningRequest", "CSIDriver", "CSINode", "VolumeAttachment", "ComponentStatus", "FlowSchema",
        "PriorityLevelConfiguration", "PodSecurityPolicy", "DeviceClass", "ResourceSlice", "IPAddress", "ServiceCIDR",
        "VolumeAttributesClass", "StorageVersionMigration", "ClusterTrustBundle", "SelfSubjectReview",
        "ClusterIssuer", "ClusterTriggerAuthentication", "ClusterQueue", "ResourceFlavor", "Cohort",
        "GatewayClass", "ClusterPolicy", "ClusterSecretStore", "ClusterResourcePlacement", "ClusterServingRuntime",
        "ClusterTask", "ClusterInterceptor", "ClusterTriggerBinding", "ClusterWorkflowTemplate",
        "ClusterExternalSecret", "ClusterImagePolicy", "VolumeSnapshotClass", "VolumeSnapshotContent",
        "ClusterPolicyReport", "ClusterAdmissionPolicy",
        # authn/authz review requests and apiserver-internal kinds (cluster-scoped, easy to forget)
        "TokenReview", "SubjectAccessReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview", "StorageVersion",
        # cluster-scoped custom resources seen in the corpus without a namespace (names unique to their project)
        "EC2NodeClass", "AKSNodeClass", "IngressClassParams", "GKENetworkParamSet", "ComputeClass", "AdmissionCheck",
        "MultiKueueCluster", "MultiKueueConfig", "ProvisioningRequestConfig", "WorkloadPriorityClass",
        "SecurityContextConstraints", "VolumeGroupSnapshotClass", "CiliumClusterwideNetworkPolicy", "ENIConfig",
        "BucketClass", "BucketAccessClass", "VolumeReplicationClass", "ClusterStagedUpdateStrategy",
        "ClusterStagedUpdateRun", "ClusterResourceOverride", "MemberCluster", "ClusterPodMonitoring",
        "ClusterFederatedTrustDomain", "ConstraintTemplate", "ResourceGraphDefinition", "CompositeResourceDefinition",
    }
)  # fmt: skip
# Cluster-scoped custom resources whose kind name other projects also use for namespaced kinds (Flux's Provider is
# namespaced, Crossplane's is not): matched on (API group, kind). NOT here: MetalLB's IPAddressPool and OLM's
# ClusterServiceVersion, which are namespaced despite their names.
CLUSTER_SCOPED_GROUP_KINDS = frozenset(
    {
        ("karpenter.sh", "NodePool"), ("networking.gke.io", "Network"), ("kueue.x-k8s.io", "Topology"),
        ("pkg.crossplane.io", "Provider"), ("pkg.crossplane.io", "Configuration"), ("pkg.crossplane.io", "Function"),
        ("pkg.crossplane.io", "ControllerConfig"), ("apiextensions.crossplane.io", "Composition"),
    }
)  # fmt: skip
# API groups whose every kind is cluster-scoped (OPA Gatekeeper constraints: one kind per ConstraintTemplate).
CLUSTER_SCOPED_GROUPS = frozenset({"constraints.gatekeeper.sh"})

# Names of environment variables that hold secrets (kube-linter env-var-secret, Polaris sensitiveContainerEnvVar).
# (TOKEN but not TOKENS: MAX_INPUT_TOKENS=4096 is an LLM-server setting, not a credential; PASS as a whole word:
# DB_PASS, PASS_PHRASE, but not PASSTHROUGH / BYPASS; *_KEY only for kinds of keys that are secret.)
_SECRET_ENV_RE = re.compile(
    r"PASSWORD|PASSWD|PASSPHRASE|(?:^|_)PASS(?:$|_)|(?:^|_)PWD$|SECRET|TOKEN(?!S)|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY"
    r"|CREDENTIAL|AUTH_?KEY|CLIENT_?KEY|(?:SESSION|SIGNING|ENCRYPTION|MASTER|LICEN[CS]E|SSH|HMAC|JWT)_?KEY",
    re.IGNORECASE,
)
# ... unless the name says the value locates or identifies the secret (PASSWORD_FILE=/run/secrets/db, SECRET_ID=x),
# or the value is a file path or a boolean flag (GOOGLE_APPLICATION_CREDENTIALS=/var/sa.json,
# MYSQL_ALLOW_EMPTY_PASSWORD=yes).
_LOCATION_ENV_RE = re.compile(r"_(?:FILE|PATH|DIR|URL|URI|ENDPOINT|NAME|ID|VERSION)$", re.IGNORECASE)
_FLAG_VALUES = frozenset({"true", "false", "yes", "no", "on", "off"})
# A URL with a literal password (postgres://user:pass@db:5432), whatever the variable is called; a password that is a
# $(VAR) / ${VAR} reference is expanded from another (secret-backed) variable, so it is not a literal.
_URL_CREDENTIALS_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:(?!\$[({])[^/\s@]+@")
_DIGEST_RE = re.compile(r"@sha256:[0-9a-f]{64}$")
_SECCOMP_OK = {"RuntimeDefault", "Localhost"}
_LEGACY_SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod"
_LEGACY_SECCOMP_CONTAINER = "container.seccomp.security.alpha.kubernetes.io/"
_LEGACY_SECCOMP_OK = ("runtime/default", "docker/default")
_ALLOWED_ADDED_CAPABILITIES = {"NET_BIND_SERVICE"}


@dataclass(slots=True)
class ObjectContext:
    """What a check may read about one object.

    Args:
        obj: The object mapping.
        kind: Its kind.
        api_version: Its apiVersion.
        pod: Its pod spec, or `None` for non-workloads.
        hpa_targets: ``(namespace, kind, name, maxReplicas)`` of every HorizontalPodAutoscaler target in the input.
    """

    obj: dict
    kind: str
    api_version: str
    pod: PodView | None
    hpa_targets: frozenset[tuple[str | None, str, str, int]] = frozenset()

    @property
    def metadata(self) -> dict:
        return mapping(self.obj.get("metadata"))

    @property
    def spec(self) -> dict:
        return mapping(self.obj.get("spec"))


@dataclass(frozen=True)
class Check:
    """One check of the spec.

    Args:
        id: Public, stable id (``bp.*`` or ``sec.*``).
        title: Short human title.
        category: ``"bp"`` (counts in BP%) or ``"sec"`` (counts in the security score).
        kinds: The kinds it applies to, in words.
        location: The fields it reads.
        weight: Weight in its score (1 for every BP check; 1-3 for security checks, following kubesec's order).
        why: Why it matters.
        fix: How to fix a failure.
        evaluate: ``ObjectContext -> (CheckResult, offending places)``.
    """

    id: str
    title: str
    category: str
    kinds: str
    location: str
    weight: int
    why: str
    fix: str
    evaluate: Callable[[ObjectContext], Outcome] = field(repr=False, compare=False)


ContainerProblem = Callable[[Container, PodView], "str | None"]


def _container_check(scope: str, problem: ContainerProblem, skip_kinds: frozenset[str] = frozenset()):
    """A check that fails when any container of ``scope`` (``app`` | ``app+init`` | ``all``) has a problem.

    n/a for non-workloads and ``skip_kinds``. A workload without app containers fails: there is nothing that could
    satisfy the check, and "no containers" must never look like a clean manifest.
    """

    def evaluate(ctx: ObjectContext) -> Outcome:
        pod = ctx.pod
        if pod is None or ctx.kind in skip_kinds:
            return NA, ()
        if not pod.containers:
            return FAIL, ("the pod spec has no containers",)
        bad = tuple(f"{c.label}: {msg}" for c in pod.scope(scope) if (msg := problem(c, pod)) is not None)
        return (FAIL, bad) if bad else (PASS, ())

    return evaluate


def _pod_check(problem: Callable[[PodView], str | None]):
    """A check of pod-level fields: n/a for non-workloads."""

    def evaluate(ctx: ObjectContext) -> Outcome:
        if ctx.pod is None:
            return NA, ()
        msg = problem(ctx.pod)
        return (FAIL, (msg,)) if msg is not None else (PASS, ())

    return evaluate


def _missing(*path: str) -> ContainerProblem:
    def problem(container: Container, pod: PodView) -> str | None:
        node: Any = container.data
        for key in path:
            node = mapping(node).get(key)
        return None if node not in (None, "", {}, []) else f"no {'.'.join(path)}"

    return problem


def _request_missing(resource: str) -> ContainerProblem:
    """No request for ``resource``. A limit without a request counts as a request: the API server defaults requests
    to limits (``SetDefaults_ResourceRequirements``), and checkov / kube-score agree."""
    requests, limits = _missing("resources", "requests", resource), _missing("resources", "limits", resource)

    def problem(container: Container, pod: PodView) -> str | None:
        if requests(container, pod) is None or limits(container, pod) is None:
            return None
        return f"no resources.requests.{resource} (nor a limit it would default to)"

    return problem


def _image_problem(container: Container, pod: PodView) -> str | None:
    image = container.data.get("image")
    if not isinstance(image, str) or not image.strip():
        return "no image"
    if "@" in image:  # a digest pins the image, but only a well-formed one: the kubelet rejects anything else
        return None if _DIGEST_RE.search(image) else f"image {image!r} has a malformed digest"
    last = image.rsplit("/", 1)[-1]  # the port of registry:5000/name is no tag
    tag = last.rpartition(":")[2] if ":" in last else ""
    if not tag:  # no tag, or an empty one ("name:")
        return f"image {image!r} has no tag"
    if tag == "latest":
        return f"image {image!r} uses the 'latest' tag"
    return None


def _privileged_problem(container: Container, pod: PodView) -> str | None:
    return "privileged: true" if container.security_context.get("privileged") is True else None


def _capabilities(container: Container, key: str) -> list:
    return sequence(mapping(container.security_context.get("capabilities")).get(key))


def _added_capabilities_problem(container: Container, pod: PodView) -> str | None:
    added = [str(cap) for cap in _capabilities(container, "add")]
    extra = [cap for cap in added if cap.upper().removeprefix("CAP_") not in _ALLOWED_ADDED_CAPABILITIES]
    return f"adds capabilities {', '.join(extra)}" if extra else None


def _drop_all_problem(container: Container, pod: PodView) -> str | None:
    dropped = {str(cap).upper() for cap in _capabilities(container, "drop")}
    return None if "ALL" in dropped else "capabilities.drop does not contain ALL"


def _run_as_non_root_problem(container: Container, pod: PodView) -> str | None:
    user = pod.effective(container, "runAsUser")
    if user == 0 and not isinstance(user, bool):  # root by UID, whatever runAsNonRoot says (the kubelet refuses it)
        return "runAsUser is 0 (root)"
    if pod.effective(container, "runAsNonRoot") is True:
        return None
    if isinstance(user, int) and not isinstance(user, bool) and user >= 1:
        return None
    return "neither runAsNonRoot: true nor runAsUser >= 1 (container or pod level)"


def _privilege_escalation_problem(container: Container, pod: PodView) -> str | None:
    value = container.security_context.get("allowPrivilegeEscalation")
    return None if value is False else "allowPrivilegeEscalation is not set to false"


def _read_only_root_problem(container: Container, pod: PodView) -> str | None:
    value = container.security_context.get("readOnlyRootFilesystem")
    return None if value is True else "readOnlyRootFilesystem is not true"


def _secret_env_problem(container: Container, pod: PodView) -> str | None:
    names = []
    for env in sequence(container.data.get("env")):
        env = mapping(env)
        name, value = env.get("name"), env.get("value")
        if value is None or value == "" or isinstance(value, bool):
            continue
        literal = str(value)
        if _URL_CREDENTIALS_RE.search(literal):
            names.append(f"{name} (password in a URL)")
        elif (
            isinstance(name, str)
            and _SECRET_ENV_RE.search(name)
            and not _LOCATION_ENV_RE.search(name)
            and not literal.startswith("/")
            and literal.lower() not in _FLAG_VALUES
        ):
            names.append(name)
    return f"secret-looking env var(s) with a literal value: {', '.join(names)}" if names else None


def _host_port_problem(container: Container, pod: PodView) -> str | None:
    ports = [mapping(p).get("hostPort") for p in sequence(container.data.get("ports"))]
    used = [str(p) for p in ports if p not in (None, 0, "0")]
    return f"hostPort {', '.join(used)}" if used else None


def _seccomp_problem(container: Container, pod: PodView) -> str | None:
    profile = mapping(pod.effective(container, "seccompProfile")).get("type")
    if profile in _SECCOMP_OK:
        return None
    if profile is None:  # legacy annotations (removed in 1.27 but still written): accepted, as the spec says
        annotations = mapping(pod.metadata.get("annotations"))
        legacy = annotations.get(_LEGACY_SECCOMP_CONTAINER + container.name, annotations.get(_LEGACY_SECCOMP_POD))
        if isinstance(legacy, str) and (legacy in _LEGACY_SECCOMP_OK or legacy.startswith("localhost/")):
            return None
    if profile is None:
        return "no seccompProfile (container or pod level)"
    return f"seccompProfile.type is {profile!r}, not RuntimeDefault or Localhost"


def _pod_flag(key: str) -> Callable[[PodView], str | None]:
    def problem(pod: PodView) -> str | None:
        return f"{key}: true" if pod.spec.get(key) is True else None

    return problem


def _host_path_problem(pod: PodView) -> str | None:
    volumes = [mapping(v) for v in sequence(pod.spec.get("volumes"))]
    # any hostPath value counts, even an empty mapping ({} is falsy but still names a hostPath volume)
    paths = [str(v.get("name", "?")) for v in volumes if v.get("hostPath") is not None]
    return f"hostPath volume(s): {', '.join(paths)}" if paths else None


def _automount_problem(pod: PodView) -> str | None:
    value = pod.spec.get("automountServiceAccountToken")
    return None if value is False else "automountServiceAccountToken is not false"


def _replicas(ctx: ObjectContext) -> int:
    """``spec.replicas`` as Kubernetes defaults it (missing = 1); a non-integer counts as 0."""
    value = ctx.spec.get("replicas", 1)
    if value is None:
        return 1
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _hpa_max_replicas(ctx: ObjectContext) -> int | None:
    """``maxReplicas`` of the HPA in the input that scales this object, or `None` when none does."""
    name = ctx.metadata.get("name")
    namespace = ctx.metadata.get("namespace") or None  # "" is unset, as for the HPA (`KubeObject.namespace`)
    for hpa_namespace, kind, target, high in ctx.hpa_targets:
        same_namespace = hpa_namespace is None or namespace is None or hpa_namespace == namespace
        if kind == ctx.kind and target == name and same_namespace:
            return high
    return None


def _min_replicas(ctx: ObjectContext) -> Outcome:
    if ctx.kind not in ("Deployment", "StatefulSet"):
        return NA, ()
    if _hpa_max_replicas(ctx) is not None:
        return NA, ()
    replicas = _replicas(ctx)
    return (PASS, ()) if replicas >= 2 else (FAIL, (f"replicas is {ctx.spec.get('replicas', 'unset (1)')}",))


# Topology keys whose domains each hold distinct nodes: spreading over zones or regions also spreads over nodes.
_SPREAD_TOPOLOGY_KEYS = frozenset(
    {
        "kubernetes.io/hostname", "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
    }
)  # fmt: skip


def _anti_affinity_or_spread(ctx: ObjectContext) -> Outcome:
    if ctx.kind not in ("Deployment", "StatefulSet") or ctx.pod is None:
        return NA, ()
    scaled_to = _hpa_max_replicas(ctx)  # an HPA replaces spec.replicas: it applies when the HPA may run 2+ pods
    if (scaled_to if scaled_to is not None else _replicas(ctx)) < 2:
        return NA, ()
    pod = ctx.pod
    labels = pod.metadata.get("labels")
    for constraint in sequence(pod.spec.get("topologySpreadConstraints")):
        constraint = mapping(constraint)  # it spreads this pod only if its selector selects the pod
        if constraint.get("topologyKey") and selector_matches(constraint.get("labelSelector"), labels):
            return PASS, ()
    anti = mapping(mapping(pod.spec.get("affinity")).get("podAntiAffinity"))
    terms = list(sequence(anti.get("requiredDuringSchedulingIgnoredDuringExecution")))
    preferred = sequence(anti.get("preferredDuringSchedulingIgnoredDuringExecution"))
    terms += [mapping(weighted).get("podAffinityTerm") for weighted in preferred]
    for term in terms:
        term = mapping(term)
        if term.get("topologyKey") in _SPREAD_TOPOLOGY_KEYS and selector_matches(term.get("labelSelector"), labels):
            return PASS, ()
    return FAIL, ("no podAntiAffinity (host, zone or region) and no topologySpreadConstraint selecting the pod",)


_SELECTOR_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")


def _selector_matches_labels(ctx: ObjectContext) -> Outcome:
    selector = ctx.spec.get("selector")
    if ctx.kind == "Job":
        if selector is None:
            return NA, ()
    elif ctx.kind not in _SELECTOR_KINDS:
        return NA, ()
    elif selector is None:
        if ctx.api_version == "apps/v1":
            return FAIL, ("spec.selector is missing (required in apps/v1)",)
        return PASS, ()  # older API groups default the selector to the template labels
    labels = mapping(mapping(ctx.spec.get("template")).get("metadata")).get("labels")
    if selector_is_empty(selector):
        return FAIL, ("spec.selector is empty",)
    if not selector_matches(selector, labels):
        return FAIL, ("spec.selector does not select spec.template.metadata.labels",)
    return PASS, ()


def is_cluster_scoped(api_version: str, kind: str) -> bool:
    """Whether objects of this apiVersion/kind have no namespace (`CLUSTER_SCOPED_KINDS` and the group tables)."""
    group = api_version.rpartition("/")[0]
    return (
        kind in CLUSTER_SCOPED_KINDS or group in CLUSTER_SCOPED_GROUPS or (group, kind) in CLUSTER_SCOPED_GROUP_KINDS
    )


def _explicit_namespace(ctx: ObjectContext) -> Outcome:
    if is_cluster_scoped(ctx.api_version, ctx.kind):
        return NA, ()
    namespace = ctx.metadata.get("namespace")
    if not isinstance(namespace, str) or not namespace:
        return FAIL, ("metadata.namespace is not set",)
    if namespace == "default":
        return FAIL, ("metadata.namespace is 'default'",)
    return PASS, ()


_JOBS = frozenset({"Job", "CronJob"})
_WORKLOADS = "workloads (Pod, controllers, CronJob, any object with spec.template.spec.containers)"

CHECKS: tuple[Check, ...] = (
    Check(
        "bp.liveness_probe", "Liveness probe", "bp", _WORKLOADS + " except Job and CronJob",
        "containers[].livenessProbe", 1,
        "Without a liveness probe a hung container is never restarted.",
        "Add a livenessProbe (httpGet, tcpSocket, grpc or exec) to every app container.",
        _container_check("app", _missing("livenessProbe"), _JOBS),
    ),
    Check(
        "bp.readiness_probe", "Readiness probe", "bp", _WORKLOADS + " except Job and CronJob",
        "containers[].readinessProbe", 1,
        "Without a readiness probe traffic reaches pods before they can serve it.",
        "Add a readinessProbe to every app container.",
        _container_check("app", _missing("readinessProbe"), _JOBS),
    ),
    Check(
        "bp.cpu_requests", "CPU requests", "bp", _WORKLOADS,
        "containers[] + initContainers[].resources.requests.cpu", 1,
        "The scheduler places pods by their requests; without them nodes get overcommitted.",
        "Set resources.requests.cpu on every app and init container.",
        _container_check("app+init", _request_missing("cpu")),
    ),
    Check(
        "bp.memory_requests", "Memory requests", "bp", _WORKLOADS,
        "containers[] + initContainers[].resources.requests.memory", 1,
        "Without memory requests the scheduler cannot avoid memory pressure and evictions.",
        "Set resources.requests.memory on every app and init container.",
        _container_check("app+init", _request_missing("memory")),
    ),
    Check(
        "bp.cpu_limits", "CPU limits", "bp", _WORKLOADS, "containers[] + initContainers[].resources.limits.cpu", 1,
        "Without a CPU limit one container can starve its neighbours (disputed, kept as in the spec).",
        "Set resources.limits.cpu on every app and init container.",
        _container_check("app+init", _missing("resources", "limits", "cpu")),
    ),
    Check(
        "bp.memory_limits", "Memory limits", "bp", _WORKLOADS,
        "containers[] + initContainers[].resources.limits.memory", 1,
        "Without a memory limit a leaking container can exhaust the node.",
        "Set resources.limits.memory on every app and init container.",
        _container_check("app+init", _missing("resources", "limits", "memory")),
    ),
    Check(
        "bp.image_tag_pinned", "Pinned image tag", "bp", _WORKLOADS, "all containers' image", 1,
        "An untagged or :latest image changes under you; rollbacks and audits become impossible.",
        "Use an explicit version tag (nginx:1.27.2) or a digest (nginx@sha256:...).",
        _container_check("all", _image_problem),
    ),
    Check(
        "bp.min_replicas", "At least 2 replicas", "bp",
        "Deployment, StatefulSet (n/a when an HPA in the input targets it)",
        "spec.replicas", 1,
        "A single replica means downtime on every node drain, rollout or crash.",
        "Set spec.replicas to 2 or more, or add a HorizontalPodAutoscaler.",
        _min_replicas,
    ),
    Check(
        "bp.pod_anti_affinity_or_spread", "Spread across nodes", "bp", "Deployment, StatefulSet with replicas >= 2",
        "spec.template.spec.affinity.podAntiAffinity, topologySpreadConstraints", 1,
        "Replicas on one node all fail together with it.",
        "Add a podAntiAffinity term with topologyKey kubernetes.io/hostname selecting the pod labels, "
        "or a topologySpreadConstraints entry.",
        _anti_affinity_or_spread,
    ),
    Check(
        "bp.selector_matches_labels", "Selector matches template labels", "bp",
        "Deployment, StatefulSet, DaemonSet, ReplicaSet; Job when it sets a selector",
        "spec.selector, spec.template.metadata.labels", 1,
        "A selector that does not match the pod template is rejected or orphans pods.",
        "Make spec.selector.matchLabels a subset of spec.template.metadata.labels.",
        _selector_matches_labels,
    ),
    Check(
        "bp.explicit_namespace", "Explicit namespace", "bp", "namespaced kinds", "metadata.namespace", 1,
        "Objects in 'default' or in whatever namespace kubectl happens to use mix unrelated workloads.",
        "Set metadata.namespace to a dedicated namespace (not 'default').",
        _explicit_namespace,
    ),
    Check(
        "sec.no_privileged", "Not privileged", "sec", _WORKLOADS, "all containers' securityContext.privileged", 3,
        "A privileged container has full access to the host.",
        "Remove securityContext.privileged or set it to false.",
        _container_check("all", _privileged_problem),
    ),
    Check(
        "sec.no_added_capabilities", "No added capabilities", "sec", _WORKLOADS,
        "all containers' securityContext.capabilities.add", 3,
        "Added capabilities such as SYS_ADMIN or NET_ADMIN give root-like powers over the host.",
        "Remove capabilities.add (NET_BIND_SERVICE is allowed).",
        _container_check("all", _added_capabilities_problem),
    ),
    Check(
        "sec.no_host_network", "No host network", "sec", _WORKLOADS, "pod spec hostNetwork", 3,
        "hostNetwork exposes the node's network stack and bypasses network policies.",
        "Remove hostNetwork: true.",
        _pod_check(_pod_flag("hostNetwork")),
    ),
    Check(
        "sec.no_host_pid", "No host PID namespace", "sec", _WORKLOADS, "pod spec hostPID", 3,
        "hostPID lets the container see and signal every process on the node.",
        "Remove hostPID: true.",
        _pod_check(_pod_flag("hostPID")),
    ),
    Check(
        "sec.no_host_ipc", "No host IPC namespace", "sec", _WORKLOADS, "pod spec hostIPC", 3,
        "hostIPC shares the node's IPC namespace with the container.",
        "Remove hostIPC: true.",
        _pod_check(_pod_flag("hostIPC")),
    ),
    Check(
        "sec.no_host_path", "No hostPath volumes", "sec", _WORKLOADS, "pod spec volumes[].hostPath", 3,
        "hostPath mounts expose the node's filesystem (docker.sock, /etc) to the container.",
        "Use emptyDir, configMap, secret or a PersistentVolumeClaim instead of hostPath.",
        _pod_check(_host_path_problem),
    ),
    Check(
        "sec.run_as_non_root", "Runs as non-root", "sec", _WORKLOADS,
        "effective securityContext.runAsNonRoot / runAsUser (container, else pod)", 2,
        "A process running as root in the container is root on the host after a breakout.",
        "Set securityContext.runAsNonRoot: true (pod or container level) and a runAsUser >= 1.",
        _container_check("all", _run_as_non_root_problem),
    ),
    Check(
        "sec.no_privilege_escalation", "No privilege escalation", "sec", _WORKLOADS,
        "all containers' securityContext.allowPrivilegeEscalation", 2,
        "setuid binaries can gain more privileges than the container started with.",
        "Set securityContext.allowPrivilegeEscalation: false on every container.",
        _container_check("all", _privilege_escalation_problem),
    ),
    Check(
        "sec.no_plaintext_secret_env", "No plaintext secrets in env", "sec", _WORKLOADS, "all containers' env[].value",
        2,
        "Literal secrets in a manifest end up in git, logs and `kubectl describe` output.",
        "Move the value to a Secret and use env[].valueFrom.secretKeyRef.",
        _container_check("all", _secret_env_problem),
    ),
    Check(
        "sec.read_only_root_fs", "Read-only root filesystem", "sec", _WORKLOADS,
        "all containers' securityContext.readOnlyRootFilesystem", 1,
        "A writable root filesystem lets an attacker persist tools and modify binaries.",
        "Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes where writes are needed.",
        _container_check("all", _read_only_root_problem),
    ),
    Check(
        "sec.drop_all_capabilities", "Drops all capabilities", "sec", _WORKLOADS,
        "all containers' securityContext.capabilities.drop", 1,
        "Containers start with a default capability set they rarely need.",
        "Set securityContext.capabilities.drop: [ALL] (add back only NET_BIND_SERVICE if needed).",
        _container_check("all", _drop_all_problem),
    ),
    Check(
        "sec.no_host_port", "No hostPort", "sec", _WORKLOADS, "all containers' ports[].hostPort", 1,
        "hostPort binds the node's port, limits scheduling and bypasses Service load balancing.",
        "Remove ports[].hostPort and expose the pod through a Service.",
        _container_check("all", _host_port_problem),
    ),
    Check(
        "sec.seccomp_runtime_default", "Seccomp profile", "sec", _WORKLOADS,
        "effective securityContext.seccompProfile.type (container, else pod; legacy annotations)", 1,
        "Without a seccomp profile every syscall is allowed to the container.",
        "Set spec.securityContext.seccompProfile.type: RuntimeDefault at pod level.",
        _container_check("all", _seccomp_problem),
    ),
    Check(
        "sec.no_automount_sa_token", "No automounted service-account token", "sec", _WORKLOADS,
        "pod spec automountServiceAccountToken", 1,
        "A mounted token lets a compromised pod talk to the API server.",
        "Set automountServiceAccountToken: false in the pod spec (mount a token explicitly where needed).",
        _pod_check(_automount_problem),
    ),
)  # fmt: skip

CHECKS_BY_ID: dict[str, Check] = {check.id: check for check in CHECKS}
BP_CHECKS: tuple[Check, ...] = tuple(check for check in CHECKS if check.category == "bp")
SEC_CHECKS: tuple[Check, ...] = tuple(check for check in CHECKS if check.category == "sec")

if len(CHECKS_BY_ID) != len(CHECKS):  # pragma: no cover - guards the registry when it is edited
    raise RuntimeError("duplicate check id in k8s_scoring.rules.CHECKS")
