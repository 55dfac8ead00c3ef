"""Table-driven tests of every check in k8s_scoring.rules: a pass and a fail case per check id, each saying why.

Manifests are built from `good_deployment()` (which passes every check) by small edits, so each case changes exactly
the field its check reads.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import yaml

from k8s_scoring import CHECKS, CHECKS_BY_ID, CheckResult, analyze

PASS, FAIL, NA = "pass", "fail", "n/a"


def good_container(name: str = "web") -> dict:
    return {
        "name": name,
        "image": "nginx:1.27.2",
        "ports": [{"containerPort": 8080}],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def good_pod_spec() -> dict:
    return {
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        "affinity": {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}
                ]
            }
        },
        "containers": [good_container()],
    }


def good_deployment() -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web", "tier": "frontend"}}, "spec": good_pod_spec()},
        },
    }


def pod_spec(obj: dict) -> dict:
    if obj["kind"] == "Pod":
        return obj["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def edit(change: Callable[[dict], None], base: Callable[[], dict] = good_deployment) -> str:
    obj = base()
    change(obj)
    return yaml.safe_dump(obj, sort_keys=False)


def container(obj: dict, index: int = 0) -> dict:
    return pod_spec(obj)["containers"][index]


def sc(obj: dict, index: int = 0) -> dict:
    return container(obj, index)["securityContext"]


def good_pod() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "one", "namespace": "shop"},
        "spec": good_pod_spec(),
    }


def good_cronjob() -> dict:
    spec = good_pod_spec()
    spec["restartPolicy"] = "OnFailure"
    for item in spec["containers"]:
        del item["livenessProbe"], item["readinessProbe"]
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "batch"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": spec}}}},
    }


def good_statefulset() -> dict:
    obj = good_deployment()
    obj["kind"] = "StatefulSet"
    obj["spec"]["serviceName"] = "web"
    return obj


def with_init(obj: dict, **overrides) -> None:
    init = good_container("init")
    del init["livenessProbe"], init["readinessProbe"]
    init.update(overrides)
    pod_spec(obj)["initContainers"] = [init]


def with_ephemeral(obj: dict, **overrides) -> None:
    security = copy.deepcopy(good_container()["securityContext"])
    eph = {"name": "debug", "image": "busybox:1.36", "securityContext": security}
    eph.update(overrides)
    pod_spec(obj)["ephemeralContainers"] = [eph]


CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\ndata: {a: b}\n"
HPA = """
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 5
"""


def anti_term(obj: dict) -> dict:
    return pod_spec(obj)["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]


def nop(obj: dict) -> None:
    pass


def set_path(obj: dict, path: list, value) -> None:
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


def del_path(obj: dict, path: list) -> None:
    for key in path[:-1]:
        obj = obj[key]
    del obj[path[-1]]


# (check id, case name, YAML text, expected result on the object at index 0) -- comment: why.
CASES: list[tuple[str, str, str, str]] = [
    # --- bp.liveness_probe
    ("bp.liveness_probe", "present", edit(nop), PASS),  # every app container has one
    ("bp.liveness_probe", "missing", edit(lambda o: del_path(container(o), ["livenessProbe"])), FAIL),
    # initContainers need no livenessProbe (they run to completion)
    ("bp.liveness_probe", "init_without_probe", edit(lambda o: with_init(o)), PASS),
    ("bp.liveness_probe", "cronjob", edit(nop, good_cronjob), NA),  # Jobs and CronJobs finish: n/a
    ("bp.liveness_probe", "configmap", CONFIGMAP, NA),  # non-workloads: n/a, never pass
    # --- bp.readiness_probe
    ("bp.readiness_probe", "present", edit(nop), PASS),
    ("bp.readiness_probe", "missing_second_container",  # one container out of two fails the object
     edit(lambda o: pod_spec(o)["containers"].append({**good_container("side"), "readinessProbe": None})), FAIL),
    ("bp.readiness_probe", "pod", edit(lambda o: del_path(container(o), ["readinessProbe"]), good_pod), FAIL),
    # --- bp.cpu_requests / memory_requests / cpu_limits / memory_limits (app + init containers)
    ("bp.cpu_requests", "set", edit(nop), PASS),
    ("bp.cpu_requests", "init_missing",  # init containers are in scope for resources
     edit(lambda o: with_init(o, resources={"requests": {"memory": "1Mi"}})), FAIL),
    ("bp.cpu_requests", "ephemeral_missing",  # ephemeral containers cannot set resources: out of scope
     edit(lambda o: with_ephemeral(o)), PASS),
    ("bp.memory_requests", "set", edit(nop), PASS),
    ("bp.memory_requests", "missing",  # neither a request nor a limit it would default to
     edit(lambda o: (del_path(container(o), ["resources", "requests", "memory"]),
                     del_path(container(o), ["resources", "limits", "memory"]))), FAIL),
    ("bp.cpu_limits", "set", edit(nop), PASS),
    ("bp.cpu_limits", "missing", edit(lambda o: del_path(container(o), ["resources", "limits", "cpu"])), FAIL),
    ("bp.memory_limits", "set", edit(nop, good_cronjob), PASS),  # CronJob: pod spec under jobTemplate
    ("bp.memory_limits", "cronjob_missing",
     edit(lambda o: del_path(container(o), ["resources", "limits", "memory"]), good_cronjob), FAIL),
    # --- bp.image_tag_pinned (all containers)
    ("bp.image_tag_pinned", "tag", edit(nop), PASS),
    ("bp.image_tag_pinned", "digest",  # a digest pins even without a tag
     edit(lambda o: set_path(container(o), ["image"], "nginx@sha256:" + "a" * 64)), PASS),
    ("bp.image_tag_pinned", "registry_port_tag",
     edit(lambda o: set_path(container(o), ["image"], "reg:5000/app:1.2")), PASS),
    ("bp.image_tag_pinned", "latest", edit(lambda o: set_path(container(o), ["image"], "nginx:latest")), FAIL),
    # registry:5000/name has a port, not a tag
    ("bp.image_tag_pinned", "registry_port_no_tag",
     edit(lambda o: set_path(container(o), ["image"], "reg:5000/app")), FAIL),
    ("bp.image_tag_pinned", "ephemeral_untagged",  # ephemeral containers count for images
     edit(lambda o: with_ephemeral(o, image="busybox")), FAIL),
    # review regressions: an empty tag ("nginx:") is no tag; a digest must be well-formed (@sha256:<64 hex>), the
    # kubelet rejects anything else as InvalidImageName -- both used to pass
    ("bp.image_tag_pinned", "empty_tag", edit(lambda o: set_path(container(o), ["image"], "nginx:")), FAIL),
    ("bp.image_tag_pinned", "malformed_digest",
     edit(lambda o: set_path(container(o), ["image"], "nginx@sha256:abc123")), FAIL),
    ("bp.image_tag_pinned", "tag_and_digest",
     edit(lambda o: set_path(container(o), ["image"], "nginx:1.27@sha256:" + "0f" * 32)), PASS),
    # --- bp.min_replicas
    ("bp.min_replicas", "three", edit(nop), PASS),
    ("bp.min_replicas", "missing_means_one", edit(lambda o: del_path(o, ["spec", "replicas"])), FAIL),
    ("bp.min_replicas", "statefulset_one",
     edit(lambda o: set_path(o, ["spec", "replicas"], 1), good_statefulset), FAIL),
    # an HPA in the same input owns the replica count: n/a
    ("bp.min_replicas", "hpa_exception", edit(lambda o: set_path(o, ["spec", "replicas"], 1)) + "---\n" + HPA, NA),
    ("bp.min_replicas", "pod", edit(nop, good_pod), NA),  # only Deployment / StatefulSet
    # review regression: namespace "" means unset (as on the HPA side), so an HPA in "shop" may target it
    ("bp.min_replicas", "hpa_empty_namespace",
     edit(lambda o: (set_path(o, ["spec", "replicas"], 1), set_path(o, ["metadata", "namespace"], ""))) + "---\n"
     + HPA, NA),
    # --- bp.pod_anti_affinity_or_spread
    ("bp.pod_anti_affinity_or_spread", "host_anti_affinity", edit(nop), PASS),
    ("bp.pod_anti_affinity_or_spread", "spread",
     edit(lambda o: (del_path(pod_spec(o), ["affinity"]), set_path(pod_spec(o), ["topologySpreadConstraints"], [
         {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
          "labelSelector": {"matchLabels": {"app": "web"}}}]))), PASS),
    ("bp.pod_anti_affinity_or_spread", "rack_key_only",  # a custom domain (racks) says nothing about nodes
     edit(lambda o: set_path(anti_term(o),
                             ["topologyKey"], "example.com/rack")), FAIL),
    ("bp.pod_anti_affinity_or_spread", "selector_mismatch",  # the term must select this workload's own pods
     edit(lambda o: set_path(anti_term(o),
                             ["labelSelector"], {"matchLabels": {"app": "other"}})), FAIL),
    ("bp.pod_anti_affinity_or_spread", "single_replica", edit(lambda o: set_path(o, ["spec", "replicas"], 1)), NA),
    # --- bp.selector_matches_labels
    ("bp.selector_matches_labels", "match_labels", edit(nop), PASS),
    ("bp.selector_matches_labels", "match_expressions",
     edit(lambda o: set_path(o, ["spec", "selector"], {"matchExpressions": [
         {"key": "tier", "operator": "In", "values": ["frontend", "backend"]}]})), PASS),
    ("bp.selector_matches_labels", "mismatch",
     edit(lambda o: set_path(o, ["spec", "selector"], {"matchLabels": {"app": "api"}})), FAIL),
    ("bp.selector_matches_labels", "missing_apps_v1", edit(lambda o: del_path(o, ["spec", "selector"])), FAIL),
    ("bp.selector_matches_labels", "pod", edit(nop, good_pod), NA),
    # --- bp.explicit_namespace
    ("bp.explicit_namespace", "set", CONFIGMAP, PASS),
    ("bp.explicit_namespace", "missing", edit(lambda o: del_path(o, ["metadata", "namespace"])), FAIL),
    ("bp.explicit_namespace", "default", edit(lambda o: set_path(o, ["metadata", "namespace"], "default")), FAIL),
    # cluster-scoped kinds have no namespace
    ("bp.explicit_namespace", "cluster_role",
     "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: []\n", NA),
    ("bp.explicit_namespace", "namespace_kind", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n", NA),
    # review regressions (cluster scope): built-in review kinds and cluster-scoped custom resources are n/a ...
    ("bp.explicit_namespace", "token_review",
     "apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nmetadata: {name: t}\nspec: {token: x}\n", NA),
    ("bp.explicit_namespace", "karpenter_nodepool",
     "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: default}\nspec: {}\n", NA),
    ("bp.explicit_namespace", "gatekeeper_constraint",  # every kind of constraints.gatekeeper.sh is cluster-scoped
     "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\nmetadata: {name: ns-owner}\n", NA),
    # ... while MetalLB's IPAddressPool, OLM's ClusterServiceVersion and Flux's Provider are namespaced (fail)
    ("bp.explicit_namespace", "metallb_ip_address_pool",
     "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: pool}\nspec: {addresses: [10.0.0.0/28]}\n",
     FAIL),
    ("bp.explicit_namespace", "olm_cluster_service_version",
     "apiVersion: operators.coreos.com/v1alpha1\nkind: ClusterServiceVersion\nmetadata: {name: op.v1}\n", FAIL),
    ("bp.explicit_namespace", "flux_provider",  # same kind name as Crossplane's cluster-scoped Provider
     "apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Provider\nmetadata: {name: slack}\n", FAIL),
    # --- sec.no_privileged
    ("sec.no_privileged", "unset", edit(nop), PASS),
    ("sec.no_privileged", "init_privileged",  # init containers are in scope for security checks
     edit(lambda o: with_init(o, securityContext={**good_container()["securityContext"], "privileged": True})), FAIL),
    ("sec.no_privileged", "configmap", CONFIGMAP, NA),
    # --- sec.no_added_capabilities
    ("sec.no_added_capabilities", "net_bind_service",  # the one allowed addition
     edit(lambda o: set_path(sc(o), ["capabilities", "add"], ["NET_BIND_SERVICE"])), PASS),
    ("sec.no_added_capabilities", "sys_admin",
     edit(lambda o: set_path(sc(o), ["capabilities", "add"], ["SYS_ADMIN"])), FAIL),
    # --- sec.no_host_network / pid / ipc / path
    ("sec.no_host_network", "unset", edit(nop), PASS),
    ("sec.no_host_network", "true", edit(lambda o: set_path(pod_spec(o), ["hostNetwork"], True)), FAIL),
    ("sec.no_host_pid", "false", edit(lambda o: set_path(pod_spec(o), ["hostPID"], False)), PASS),
    ("sec.no_host_pid", "true", edit(lambda o: set_path(pod_spec(o), ["hostPID"], True), good_cronjob), FAIL),
    ("sec.no_host_ipc", "unset", edit(nop, good_pod), PASS),
    ("sec.no_host_ipc", "true", edit(lambda o: set_path(pod_spec(o), ["hostIPC"], True), good_pod), FAIL),
    ("sec.no_host_path", "empty_dir",
     edit(lambda o: set_path(pod_spec(o), ["volumes"], [{"name": "t", "emptyDir": {}}])), PASS),
    ("sec.no_host_path", "docker_sock",
     edit(lambda o: set_path(pod_spec(o), ["volumes"], [{"name": "s", "hostPath": {"path": "/run/x.sock"}}])), FAIL),
    # review regression: `hostPath: {}` is still a hostPath volume (it used to pass because {} is falsy)
    ("sec.no_host_path", "empty_host_path",
     edit(lambda o: set_path(pod_spec(o), ["volumes"], [{"name": "h", "hostPath": {}}])), FAIL),
    # --- sec.run_as_non_root (effective: container overrides pod)
    ("sec.run_as_non_root", "pod_level", edit(nop), PASS),  # pod-level runAsNonRoot covers every container
    ("sec.run_as_non_root", "container_level_user",
     edit(lambda o: (set_path(pod_spec(o), ["securityContext"], {}), set_path(sc(o), ["runAsUser"], 1000))), PASS),
    ("sec.run_as_non_root", "container_overrides_pod",  # container runAsUser 0 + runAsNonRoot false beats the pod
     edit(lambda o: (set_path(sc(o), ["runAsNonRoot"], False), set_path(sc(o), ["runAsUser"], 0))), FAIL),
    ("sec.run_as_non_root", "nothing_set", edit(lambda o: set_path(pod_spec(o), ["securityContext"], {})), FAIL),
    # --- sec.no_privilege_escalation (must be explicitly false; container-only field)
    ("sec.no_privilege_escalation", "false", edit(nop), PASS),
    ("sec.no_privilege_escalation", "unset", edit(lambda o: del_path(sc(o), ["allowPrivilegeEscalation"])), FAIL),
    ("sec.no_privilege_escalation", "ephemeral_unset",  # ephemeral containers are in scope
     edit(lambda o: with_ephemeral(o, securityContext={"readOnlyRootFilesystem": True})), FAIL),
    # --- sec.no_plaintext_secret_env
    ("sec.no_plaintext_secret_env", "secret_ref",
     edit(lambda o: set_path(container(o), ["env"], [
         {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
         {"name": "PASSWORD_FILE", "value": "/run/secrets/db"},  # a path to a secret is no secret
         {"name": "MAX_INPUT_TOKENS", "value": "4096"},  # token counts are not tokens
         {"name": "MYSQL_ALLOW_EMPTY_PASSWORD", "value": "yes"}])), PASS),  # a flag, not a password
    ("sec.no_plaintext_secret_env", "literal",
     edit(lambda o: set_path(container(o), ["env"], [{"name": "API_KEY", "value": "sk-123"}])), FAIL),
    # --- sec.read_only_root_fs
    ("sec.read_only_root_fs", "true", edit(nop), PASS),
    ("sec.read_only_root_fs", "false", edit(lambda o: set_path(sc(o), ["readOnlyRootFilesystem"], False)), FAIL),
    # --- sec.drop_all_capabilities
    ("sec.drop_all_capabilities", "lowercase_all",
     edit(lambda o: set_path(sc(o), ["capabilities", "drop"], ["all"])), PASS),
    ("sec.drop_all_capabilities", "drop_net_raw_only",
     edit(lambda o: set_path(sc(o), ["capabilities", "drop"], ["NET_RAW"])), FAIL),
    # --- sec.no_host_port
    ("sec.no_host_port", "zero",
     edit(lambda o: set_path(container(o), ["ports"], [{"containerPort": 80, "hostPort": 0}])), PASS),
    ("sec.no_host_port", "set",
     edit(lambda o: set_path(container(o), ["ports"], [{"containerPort": 80, "hostPort": 80}])), FAIL),
    # --- sec.seccomp_runtime_default (effective; legacy annotation accepted)
    ("sec.seccomp_runtime_default", "pod_level", edit(nop), PASS),
    ("sec.seccomp_runtime_default", "legacy_annotation",
     edit(lambda o: (del_path(pod_spec(o), ["securityContext", "seccompProfile"]),
                     set_path(o["spec"]["template"]["metadata"], ["annotations"],
                              {"seccomp.security.alpha.kubernetes.io/pod": "runtime/default"}))), PASS),
    ("sec.seccomp_runtime_default", "container_unconfined",  # container-level Unconfined overrides the pod
     edit(lambda o: set_path(sc(o), ["seccompProfile"], {"type": "Unconfined"})), FAIL),
    ("sec.seccomp_runtime_default", "unset",
     edit(lambda o: del_path(pod_spec(o), ["securityContext", "seccompProfile"])), FAIL),
    # --- issue 13 check fixes (false negatives and positives users of kube-score / checkov / Polaris disputed)
    # limits only: the API server defaults requests to limits (SetDefaults_ResourceRequirements; checkov agrees)
    ("bp.cpu_requests", "limits_only",
     edit(lambda o: del_path(container(o), ["resources", "requests"])), PASS),
    ("bp.memory_requests", "limits_only_init",  # the same for init containers
     edit(lambda o: with_init(o, resources={"limits": {"cpu": "100m", "memory": "64Mi"}})), PASS),
    # credentials in a URL are literal secrets even in a *_URL variable (the suffix only exempts locations)
    ("sec.no_plaintext_secret_env", "url_with_password",
     edit(lambda o: set_path(container(o), ["env"], [{"name": "DATABASE_URL", "value": "postgres://u:pass@db/app"}])),
     FAIL),
    # ... but a $(VAR) reference expanded from a secret-backed variable is not a literal
    ("sec.no_plaintext_secret_env", "url_with_var_reference",
     edit(lambda o: set_path(container(o), ["env"], [{"name": "DATABASE_URL", "value": "postgres://u:$(DB_PW)@db"}])),
     PASS),
    ("sec.no_plaintext_secret_env", "db_pass",  # *_PASS is a password
     edit(lambda o: set_path(container(o), ["env"], [{"name": "DB_PASS", "value": "hunter2"}])), FAIL),
    ("sec.no_plaintext_secret_env", "session_key",  # SESSION_KEY, SIGNING_KEY, ... are secret keys
     edit(lambda o: set_path(container(o), ["env"], [{"name": "SESSION_KEY", "value": "abc123"}])), FAIL),
    ("sec.no_plaintext_secret_env", "cache_key_and_bypass",  # a cache key and BYPASS are no credentials
     edit(lambda o: set_path(container(o), ["env"], [{"name": "CACHE_KEY", "value": "v2"},
                                                     {"name": "BYPASS_PROXY", "value": "1"}])), PASS),
    # runAsNonRoot: true with runAsUser: 0 runs (tries to run) as root: fails (and the kubelet refuses it)
    ("sec.run_as_non_root", "non_root_with_uid_0",
     edit(lambda o: set_path(pod_spec(o), ["securityContext", "runAsUser"], 0)), FAIL),
    # an HPA replaces spec.replicas: with maxReplicas >= 2 the pods must be spread (was n/a: replicas unset = 1)
    ("bp.pod_anti_affinity_or_spread", "hpa_scaled_without_spread",
     edit(lambda o: (del_path(o["spec"], ["replicas"]), del_path(pod_spec(o), ["affinity"]))) + "---\n" + HPA, FAIL),
    ("bp.pod_anti_affinity_or_spread", "hpa_scaled_with_spread",
     edit(lambda o: del_path(o["spec"], ["replicas"])) + "---\n" + HPA, PASS),
    # required anti-affinity over zones also keeps replicas off one node (was a false positive)
    ("bp.pod_anti_affinity_or_spread", "zone_anti_affinity",
     edit(lambda o: set_path(anti_term(o), ["topologyKey"], "topology.kubernetes.io/zone")), PASS),
    # a spread constraint whose selector does not select the pod spreads nothing (was a pass)
    ("bp.pod_anti_affinity_or_spread", "spread_selects_other_pods",
     edit(lambda o: (del_path(pod_spec(o), ["affinity"]), set_path(pod_spec(o), ["topologySpreadConstraints"], [
         {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
          "labelSelector": {"matchLabels": {"app": "other"}}}]))), FAIL),
    ("bp.pod_anti_affinity_or_spread", "spread_selects_pod",
     edit(lambda o: (del_path(pod_spec(o), ["affinity"]), set_path(pod_spec(o), ["topologySpreadConstraints"], [
         {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
          "labelSelector": {"matchLabels": {"app": "web"}}}]))), PASS),
    # --- sec.no_automount_sa_token
    ("sec.no_automount_sa_token", "false", edit(nop), PASS),
    ("sec.no_automount_sa_token", "unset",
     edit(lambda o: del_path(pod_spec(o), ["automountServiceAccountToken"])), FAIL),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check_id", "text", "expected"), [(c[0], c[2], c[3]) for c in CASES], ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_check_case(check_id: str, text: str, expected: str) -> None:
    analysis = analyze(text)
    assert analysis.valid, analysis.errors
    result = analysis.objects[0].checks[check_id]
    assert result == expected, analysis.objects[0].details.get(check_id)
    assert isinstance(result, CheckResult)
    if expected == FAIL:  # a failure always says what is wrong
        assert analysis.objects[0].details[check_id]


def test_every_check_has_a_pass_and_a_fail_case() -> None:
    for check in CHECKS:
        outcomes = {expected for check_id, _, _, expected in CASES if check_id == check.id}
        assert {PASS, FAIL} <= outcomes, check.id


def test_registry_is_data() -> None:
    assert len(CHECKS) == 25 and len(CHECKS_BY_ID) == 25
    assert sum(c.category == "bp" for c in CHECKS) == 11
    weights = {c.id: c.weight for c in CHECKS if c.category == "sec"}
    assert (weights["sec.no_privileged"], weights["sec.run_as_non_root"], weights["sec.no_host_port"]) == (3, 2, 1)
    for check in CHECKS:
        assert check.id.startswith(check.category + ".") and check.title and check.why and check.fix and check.location
    with pytest.raises(AttributeError):  # frozen dataclasses: no mutable state on rules
        CHECKS[0].weight = 5  # type: ignore[misc]


def test_good_deployment_passes_everything() -> None:
    analysis = analyze(edit(nop))
    (obj,) = analysis.objects
    assert obj.failed == []
    assert analysis.bp == 100.0 and analysis.security == 1.0


def test_non_workload_gets_na_for_container_checks() -> None:
    (obj,) = analyze(CONFIGMAP).objects
    assert {cid for cid, r in obj.checks.items() if r != NA} == {"bp.explicit_namespace"}


def test_kind_list_is_expanded() -> None:
    items = [good_deployment(), yaml.safe_load(CONFIGMAP)]
    items[0]["spec"]["replicas"] = 1
    text = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items})
    analysis = analyze(text)
    expected = [("Deployment", 0, 0), ("ConfigMap", 0, 1)]
    assert [(o.kind, o.doc_index, o.item_index) for o in analysis.objects] == expected
    assert analysis.objects[0].checks["bp.min_replicas"] == FAIL


def test_multi_document_indices_skip_empty_documents() -> None:
    # As in yaml.load_all: a comment before the first `---` is no document; the empty one between `---`s is (index 1).
    text = "# header comment only\n---\n" + CONFIGMAP + "---\n---\n" + edit(nop) + "---\n# trailing comment\n"
    analysis = analyze(text)
    assert [(o.kind, o.doc_index) for o in analysis.objects] == [("ConfigMap", 0), ("Deployment", 2)]
    assert analysis.objects[1].namespace == "shop"


def test_hpa_in_other_namespace_does_not_exempt() -> None:
    other_hpa = HPA.replace("namespace: shop", "namespace: other")
    text = edit(lambda o: set_path(o, ["spec", "replicas"], 1)) + "---\n" + other_hpa
    assert analyze(text).objects[0].checks["bp.min_replicas"] == FAIL


def test_bp_and_security_aggregate_over_objects() -> None:
    # Deployment missing one BP field + ConfigMap: BP = (11 - 1 - 0) applicable pairs...
    dep = edit(lambda o: del_path(container(o), ["livenessProbe"]))
    analysis = analyze(dep + "---\n" + CONFIGMAP)
    # Deployment: 11 applicable, 10 pass; ConfigMap: 1 applicable (namespace), passes -> 11 / 12
    assert analysis.bp == pytest.approx(100 * 11 / 12)
    hostnet = edit(lambda o: set_path(pod_spec(o), ["hostNetwork"], True))
    total = sum(c.weight for c in CHECKS if c.category == "sec")
    assert analyze(hostnet).security == pytest.approx((total - 3) / total)
