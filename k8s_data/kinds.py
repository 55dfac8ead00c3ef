"""Which Kubernetes kinds an intent asks for: `detect_kinds("postgres statefulset with a headless service")`
→ `["StatefulSet", "Service"]`.

The words are data (`KIND_SYNONYMS`): each kind lists its lower-case phrases in the singular; plurals are formed by
`plural` (`policy` → `policies`, `ingress` → `ingresses`, `pvc` → `pvcs`). Matching is on whole words, longest
phrase first, and a matched word is used once, so "service account" is a ServiceAccount and not also a Service,
and "cron job" is a CronJob and not also a Job. Quoted text (object names such as `"web-service"`) is ignored.
Kind-aware retrieval (`PatternBank.pattern_for`) ranks train files covering the detected kinds first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# kind -> phrases (lower case, singular, words separated by one space). A phrase may name several kinds (RBAC).
KIND_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Deployment": ("deployment",),
    "StatefulSet": ("statefulset", "stateful set"),
    "DaemonSet": ("daemonset", "daemon set"),
    "ReplicaSet": ("replicaset", "replica set"),
    "Job": ("job", "batch job"),
    "CronJob": ("cronjob", "cron job", "scheduled job", "cron"),
    "Pod": ("pod", "bare pod"),
    "Service": ("service", "svc", "load balancer", "loadbalancer", "nodeport", "node port", "clusterip",
                "headless service"),
    "Ingress": ("ingress",),
    "IngressClass": ("ingressclass", "ingress class"),
    "PersistentVolumeClaim": ("persistentvolumeclaim", "persistent volume claim", "volume claim", "pvc",
                              "persistent storage"),
    "PersistentVolume": ("persistentvolume", "persistent volume", "pv"),
    "StorageClass": ("storageclass", "storage class"),
    "ConfigMap": ("configmap", "config map"),
    "Secret": ("secret",),
    "HorizontalPodAutoscaler": ("horizontalpodautoscaler", "horizontal pod autoscaler", "hpa", "autoscaler",
                                "autoscale", "autoscaling"),
    "NetworkPolicy": ("networkpolicy", "network policy", "netpol"),
    "ServiceAccount": ("serviceaccount", "service account"),
    "Role": ("role",),
    "ClusterRole": ("clusterrole", "cluster role"),
    "RoleBinding": ("rolebinding", "role binding"),
    "ClusterRoleBinding": ("clusterrolebinding", "cluster role binding"),
    "Namespace": ("namespace",),
    "PodDisruptionBudget": ("poddisruptionbudget", "pod disruption budget", "pdb"),
    "ResourceQuota": ("resourcequota", "resource quota"),
    "LimitRange": ("limitrange", "limit range"),
}
# Phrases that ask for several kinds at once.
MULTI_KIND_PHRASES: dict[str, tuple[str, ...]] = {
    "rbac": ("Role", "RoleBinding"),  # RBAC = permissions (Role) + who gets them (RoleBinding)
}
# Kinds that count as requested only right after one of these words: "in the default namespace" says where,
# "a namespace" or "new namespace" asks for one.
REQUEST_ONLY_AFTER: dict[str, frozenset[str]] = {
    "Namespace": frozenset({"a", "an", "new", "one", "and", "plus", "dedicated"}),
    # "selecting pods", "for all pods", "the pod template" are about a workload's pods, not a bare Pod
    "Pod": frozenset({"a", "an", "one", "bare", "single", "simple", "standalone", "static", "debug", "test", "and",
                      "plus"}),
}
# Words before a phrase that make it a reference to an object the manifest uses, not one it asks for
# ("mounting a ConfigMap", "password from the Secret").
REFERENCE_AFTER: frozenset[str] = frozenset(
    {"mounting", "mounts", "mount", "mounted", "from", "referencing", "references", "existing", "the", "its",
     "your", "this", "that", "via"}
)
# Words that keep a reference going: "mounting a ConfigMap and a Secret".
_CONNECTORS: frozenset[str] = frozenset({"a", "an", "the", "and", "or", "both", "its", "their", "two", "some"})
# Words after a phrase that make it something else ("ingress traffic", "service mesh", "secret key").
NOT_A_KIND_BEFORE: dict[str, frozenset[str]] = {
    "Ingress": frozenset({"traffic", "controller", "controllers", "rule", "rules", "isolation", "and", "or",
                          "gateway", "nginx"}),
    "Service": frozenset({"mesh", "discovery", "name", "names", "port", "ports", "type", "types", "provider"}),
    "Secret": frozenset({"key", "keys", "name", "names", "ref", "data", "value", "values"}),
    "ConfigMap": frozenset({"key", "keys", "name", "ref", "data", "value", "values"}),
}
# A kind dropped when one of these is also requested ("a deployment with 3 pods" asks for no bare Pod).
IMPLIED_BY: dict[str, frozenset[str]] = {
    "Pod": frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}),
    "Job": frozenset({"CronJob"}),
}
# Words with these spellings are never kind names (plural forms that are other English words).
_NO_PLURAL: frozenset[str] = frozenset({"autoscaling", "persistent storage", "cron", "rbac"})
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|`[^`]*`")
_DOTTED = re.compile(r"\S*[./:@=][A-Za-z0-9]\S*")  # images, apiVersions, hosts, paths, key=value: names, not requests
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # hyphenated names (`per-pod-limits`) stay one word
_KIND_WORD = re.compile(r"(?<![\w-])[A-Z][A-Za-z0-9]+(?![\w-])")


def plural(phrase: str) -> str:
    """English plural of a phrase's last word: `policy` → `policies`, `ingress` → `ingresses`, `pod` → `pods`."""
    head, _, last = phrase.rpartition(" ")
    if re.search(r"[^aeiou]y$", last):
        last = last[:-1] + "ies"
    elif re.search(r"(s|x|z|ch|sh)$", last):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def phrase_table() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Every phrase (as a word tuple, singular and plural) → the kinds it asks for."""
    table: dict[tuple[str, ...], tuple[str, ...]] = {}
    items = [(p, (kind,)) for kind, phrases in KIND_SYNONYMS.items() for p in phrases]
    items += list(MULTI_KIND_PHRASES.items())
    for phrase, kinds in items:
        forms = [phrase] if phrase in _NO_PLURAL else [phrase, plural(phrase)]
        for form in forms:
            table[tuple(form.replace("-", " ").split())] = kinds
    return table


_TABLE = phrase_table()
_MAX_WORDS = max(len(words) for words in _TABLE)


def detect_kinds(intent: str, extra_kinds: Iterable[str] = ()) -> list[str]:
    """The kinds `intent` asks for, in order of first mention.

    Args:
        intent: The request text.
        extra_kinds: More kind names to recognise when written in CamelCase exactly (e.g. the custom resources of
            a pattern bank: `ScaledObject`, `VirtualService`).

    Returns:
        Canonical kind names (`"StatefulSet"`, ...), each once; `[]` when none is named.
    """
    unquoted = _DOTTED.sub(" ", _QUOTED.sub(" ", intent))
    found: list[str] = []
    extra = {k for k in extra_kinds if k not in KIND_SYNONYMS}
    for match in _KIND_WORD.finditer(unquoted):
        before = unquoted[: match.start()].rstrip()
        sentence_start = not before or before[-1] in ".!?:;"
        if match.group(0) in extra and not (sentence_start and match.group(0).isalpha()
                                            and match.group(0)[1:].islower()):
            found.append(match.group(0))
    words = _WORD.findall(unquoted.lower())
    referencing = False  # inside "mounting a ConfigMap and a Secret": every kind named there is a reference
    i = 0
    while i < len(words):
        for size in range(min(_MAX_WORDS, len(words) - i), 0, -1):
            kinds = _TABLE.get(tuple(words[i:i + size]))
            if kinds is None:
                continue
            previous = words[i - 1] if i else ""
            following = words[i + size] if i + size < len(words) else ""
            found.extend(
                k for k in kinds
                if (previous in REQUEST_ONLY_AFTER[k] if k in REQUEST_ONLY_AFTER else not referencing)
                and following not in NOT_A_KIND_BEFORE.get(k, frozenset())
            )
            i += size
            break
        else:
            word = words[i]
            referencing = word in REFERENCE_AFTER or (referencing and (word in _CONNECTORS or word.isdigit()))
            i += 1
    unique = list(dict.fromkeys(found))
    return [k for k in unique if not (IMPLIED_BY.get(k, frozenset()) & set(unique))]
