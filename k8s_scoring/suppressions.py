"""Per-object suppressions through annotations: ours and the peers' conventions, mapped to our check ids as data.

An object's ``metadata.annotations`` may suppress checks for that object only:

- ours: ``k8s-lint.io/ignore: "bp.min_replicas,sec.no_host_path"`` (``all`` suppresses every check), with an
  optional ``k8s-lint.io/ignore-reason: "..."``;
- kube-linter: ``ignore-check.kube-linter.io/<check>: "<reason>"`` and ``kube-linter.io/ignore-all: "<reason>"``;
- kube-score: ``kube-score/ignore: "<test>,<test>"``;
- Polaris: ``polaris.fairwinds.com/<check>-exempt: "true"`` and ``polaris.fairwinds.com/exempt: "true"``.

A peer's check name counts only where `PEER_ALIASES` maps it to our ids, i.e. where the peer's check tests the same
thing (docs/k8s_checks.md lists the peers per check). A peer name without a mapping is ignored, and
`unknown_names` reports it, so a typo is visible. A suppressed failure is reported as suppressed, not dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .podspec import mapping
from .rules import CHECKS_BY_ID

logger = logging.getLogger(__name__)

OUR_IGNORE = "k8s-lint.io/ignore"
OUR_REASON = "k8s-lint.io/ignore-reason"
KUBE_LINTER_PREFIX = "ignore-check.kube-linter.io/"
KUBE_LINTER_ALL = "kube-linter.io/ignore-all"
KUBE_SCORE_IGNORE = "kube-score/ignore"
POLARIS_PREFIX = "polaris.fairwinds.com/"
POLARIS_SUFFIX = "-exempt"
POLARIS_ALL = "polaris.fairwinds.com/exempt"

# Peer check name -> our check ids, per tool. Names from the peers' check lists: kube-linter's generated checks
# page, kube-score README_CHECKS.md, Polaris checks docs. Left out on purpose (no equivalent):
# kube-linter sensitive-host-mounts / docker-sock / writable-host-mount (narrower than sec.no_host_path: ignoring
# one of them does not accept every hostPath), kube-score container-security-context-user-group-id (UID/GID >
# 10000, a different test from runAsNonRoot), Polaris insecureCapabilities (a list of capabilities, not drop ALL).
PEER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "kube-linter": {
        "no-liveness-probe": ("bp.liveness_probe",),
        "no-readiness-probe": ("bp.readiness_probe",),
        "unset-cpu-requirements": ("bp.cpu_requests", "bp.cpu_limits"),  # "CPU requests and limits"
        "unset-memory-requirements": ("bp.memory_requests", "bp.memory_limits"),
        "latest-tag": ("bp.image_tag_pinned",),
        "minimum-three-replicas": ("bp.min_replicas",),
        "no-anti-affinity": ("bp.pod_anti_affinity_or_spread",),
        "mismatching-selector": ("bp.selector_matches_labels",),
        "use-namespace": ("bp.explicit_namespace",),
        "privileged-container": ("sec.no_privileged",),
        "host-network": ("sec.no_host_network",),
        "host-pid": ("sec.no_host_pid",),
        "host-ipc": ("sec.no_host_ipc",),
        "run-as-non-root": ("sec.run_as_non_root",),
        "privilege-escalation-container": ("sec.no_privilege_escalation",),
        "env-var-secret": ("sec.no_plaintext_secret_env",),
        "no-read-only-root-fs": ("sec.read_only_root_fs",),
    },
    "kube-score": {
        "container-resources": ("bp.cpu_requests", "bp.memory_requests", "bp.cpu_limits", "bp.memory_limits"),
        "container-image-tag": ("bp.image_tag_pinned",),
        "pod-probes": ("bp.liveness_probe", "bp.readiness_probe"),
        "deployment-has-host-podantiaffinity": ("bp.pod_anti_affinity_or_spread",),
        "statefulset-has-host-podantiaffinity": ("bp.pod_anti_affinity_or_spread",),
        "deployment-pod-selector-labels-match-template-metadata-labels": ("bp.selector_matches_labels",),
        "statefulset-pod-selector-labels-match-template-metadata-labels": ("bp.selector_matches_labels",),
        "container-security-context-privileged": ("sec.no_privileged",),
        "container-security-context-readonlyrootfilesystem": ("sec.read_only_root_fs",),
        # the older umbrella test covered privileged and readOnlyRootFilesystem (and the UID/GID test, unmapped)
        "container-security-context": ("sec.no_privileged", "sec.read_only_root_fs"),
        "container-seccomp-profile": ("sec.seccomp_runtime_default",),
    },
    "polaris": {
        "livenessProbeMissing": ("bp.liveness_probe",),
        "readinessProbeMissing": ("bp.readiness_probe",),
        "cpuRequestsMissing": ("bp.cpu_requests",),
        "memoryRequestsMissing": ("bp.memory_requests",),
        "cpuLimitsMissing": ("bp.cpu_limits",),
        "memoryLimitsMissing": ("bp.memory_limits",),
        "tagNotSpecified": ("bp.image_tag_pinned",),
        "deploymentMissingReplicas": ("bp.min_replicas",),
        "topologySpreadConstraint": ("bp.pod_anti_affinity_or_spread",),
        "runAsPrivileged": ("sec.no_privileged",),
        "dangerousCapabilities": ("sec.no_added_capabilities",),
        "hostNetworkSet": ("sec.no_host_network",),
        "hostPIDSet": ("sec.no_host_pid",),
        "hostIPCSet": ("sec.no_host_ipc",),
        "hostPathSet": ("sec.no_host_path",),
        "runAsRootAllowed": ("sec.run_as_non_root",),
        "privilegeEscalationAllowed": ("sec.no_privilege_escalation",),
        "sensitiveContainerEnvVar": ("sec.no_plaintext_secret_env",),
        "notReadOnlyRootFilesystem": ("sec.read_only_root_fs",),
        "hostPortSet": ("sec.no_host_port",),
        "automountServiceAccountToken": ("sec.no_automount_sa_token",),
    },
}

ALL_CHECKS: tuple[str, ...] = tuple(CHECKS_BY_ID)


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a check is suppressed for an object.

    Args:
        annotation: The annotation that suppresses it (``kube-score/ignore``, ``k8s-lint.io/ignore``...).
        tool: ``k8s-lint`` | ``kube-linter`` | ``kube-score`` | ``polaris``.
        reason: The justification given, or ``""``.
    """

    annotation: str
    tool: str
    reason: str = ""

    @property
    def text(self) -> str:
        """One line for reports: ``annotation (reason)``."""
        return f"{self.annotation}: {self.reason}" if self.reason else self.annotation


def _split(value: object) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else []


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def suppressions(obj: dict) -> tuple[dict[str, Suppression], list[str]]:
    """Checks suppressed on one object by its annotations.

    Args:
        obj: The object mapping.

    Returns:
        ``(check id -> Suppression, unknown names)``: our ids suppressed (the first annotation found wins), and the
        names the annotations give that map to no check of ours (typos, or peer checks without an equivalent).
    """
    annotations = mapping(mapping(obj.get("metadata")).get("annotations"))
    if not annotations:
        return {}, []
    found: dict[str, Suppression] = {}
    unknown: list[str] = []

    def add(ids: tuple[str, ...], suppression: Suppression) -> None:
        for check_id in ids:
            found.setdefault(check_id, suppression)

    for key, value in annotations.items():
        if not isinstance(key, str):
            continue
        if key == OUR_IGNORE:
            reason = annotations.get(OUR_REASON)
            suppression = Suppression(key, "k8s-lint", reason if isinstance(reason, str) else "")
            for name in _split(value):
                if name == "all":
                    add(ALL_CHECKS, suppression)
                elif name in CHECKS_BY_ID:
                    add((name,), suppression)
                else:
                    unknown.append(f"{key}: {name}")
        elif key == KUBE_LINTER_ALL:
            add(ALL_CHECKS, Suppression(key, "kube-linter", str(value or "")))
        elif key.startswith(KUBE_LINTER_PREFIX):
            name = key[len(KUBE_LINTER_PREFIX) :]
            if name in PEER_ALIASES["kube-linter"]:
                add(PEER_ALIASES["kube-linter"][name], Suppression(key, "kube-linter", str(value or "")))
            else:
                unknown.append(key)
        elif key == KUBE_SCORE_IGNORE:
            for name in _split(value):
                if name in PEER_ALIASES["kube-score"]:
                    add(PEER_ALIASES["kube-score"][name], Suppression(f"{key}: {name}", "kube-score"))
                else:
                    unknown.append(f"{key}: {name}")
        elif key == POLARIS_ALL:
            if _truthy(value):
                add(ALL_CHECKS, Suppression(key, "polaris"))
        elif key.startswith(POLARIS_PREFIX) and key.endswith(POLARIS_SUFFIX):
            name = key[len(POLARIS_PREFIX) : -len(POLARIS_SUFFIX)]
            if name not in PEER_ALIASES["polaris"]:
                unknown.append(key)
            elif _truthy(value):
                add(PEER_ALIASES["polaris"][name], Suppression(key, "polaris"))
    return found, unknown
