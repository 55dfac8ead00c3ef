"""Describers: one short noun phrase per Kubernetes object, read from the object itself.

Every phrase states only facts found in the document (names, images, replicas, ports, schedule, ...), so a
synthesised intent never asks for something the target lacks. Each kind has several phrasings; the caller's
`random.Random` picks one, which makes the choice deterministic for a given seed.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Describer = Callable[[dict[str, Any], random.Random], str]

# Human names for kinds in running text (used by every describer and by the fallback).
KIND_NAMES: dict[str, str] = {
    "HorizontalPodAutoscaler": "HorizontalPodAutoscaler",
    "PersistentVolumeClaim": "PersistentVolumeClaim",
    "NetworkPolicy": "NetworkPolicy",
    "ClusterRole": "ClusterRole",
    "ClusterRoleBinding": "ClusterRoleBinding",
    "RoleBinding": "RoleBinding",
    "ServiceAccount": "ServiceAccount",
}
WORKLOAD_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
MAX_LISTED = 3  # at most this many items (env vars, keys, hosts, ...) are named in one phrase


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _mapping(obj: Any) -> dict[str, Any]:
    return obj if isinstance(obj, dict) else {}


def _name(doc: dict[str, Any]) -> str:
    name = _get(doc, "metadata", "name")
    return str(name) if name not in (None, "") else ""


def _named(doc: dict[str, Any], rng: random.Random) -> str:
    name = _name(doc)
    if not name:
        return ""
    return rng.choice([f' named "{name}"', f" called {name}", f' "{name}"'])


def _in_namespace(doc: dict[str, Any]) -> str:
    namespace = _get(doc, "metadata", "namespace")
    return f" in the {namespace} namespace" if isinstance(namespace, str) and namespace else ""


def _listing(items: list[str], conj: str = "and") -> str:
    items = [str(i) for i in items]
    if len(items) > MAX_LISTED:
        items = items[:MAX_LISTED] + [f"{len(items) - MAX_LISTED} more"]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a workload document (Pod, Deployment, ..., CronJob), or None."""
    path = WORKLOAD_POD_SPEC_PATHS.get(str(doc.get("kind")))
    spec = _get(doc, *path) if path else None
    return spec if isinstance(spec, dict) else None


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in spec.get("containers") or [] if isinstance(c, dict)]


def _pod_facts(spec: dict[str, Any], rng: random.Random) -> list[str]:
    """Clauses about a pod spec: images, ports, env, volumes and the best practices it really has."""
    facts: list[str] = []
    containers = _containers(spec)
    images = [str(c["image"]) for c in containers if c.get("image")]
    if images:
        verb = rng.choice(["running", "using the image", "with image"] if len(images) == 1 else ["running"])
        facts.append(f"{verb} {_listing(images)}")
    ports = [p.get("containerPort") for c in containers for p in c.get("ports") or [] if isinstance(p, dict)]
    ports = [str(p) for p in ports if p is not None]
    if ports:
        noun = "ports" if len(ports) > 1 else "port"
        facts.append(rng.choice(["exposing", "listening on", "with container"]) + f" {noun} {_listing(ports)}")
    env = [str(e.get("name")) for c in containers for e in c.get("env") or [] if isinstance(e, dict) and e.get("name")]
    if env:
        facts.append(f"with the environment variable{'s' if len(env) > 1 else ''} {_listing(env)}")
    if any(c.get("envFrom") for c in containers):
        facts.append("loading environment variables from a ConfigMap or Secret")
    volume_kinds = []
    for volume in spec.get("volumes") or []:
        if not isinstance(volume, dict):
            continue
        for key, label in (("configMap", "a ConfigMap"), ("secret", "a Secret"), ("emptyDir", "an emptyDir"),
                           ("persistentVolumeClaim", "a PersistentVolumeClaim"), ("hostPath", "a hostPath"),
                           ("projected", "a projected volume")):
            if key in volume and label not in volume_kinds:
                volume_kinds.append(label)
    if volume_kinds:
        facts.append(f"mounting {_listing(volume_kinds)}")
    has_limits = any(isinstance(c.get("resources"), dict) and c["resources"].get("limits") for c in containers)
    has_requests = any(isinstance(c.get("resources"), dict) and c["resources"].get("requests") for c in containers)
    if has_limits and has_requests:
        facts.append("with CPU/memory requests and limits")
    elif has_limits:
        facts.append("with resource limits")
    elif has_requests:
        facts.append("with resource requests")
    probes = [label for key, label in (("livenessProbe", "liveness"), ("readinessProbe", "readiness"))
              if any(c.get(key) for c in containers)]
    if probes:
        facts.append(f"with {' and '.join(probes)} probe{'s' if len(probes) > 1 else ''}")
    run_as_non_root = _get(spec, "securityContext", "runAsNonRoot") is True or any(
        _get(c, "securityContext", "runAsNonRoot") is True for c in containers
    )
    if run_as_non_root:
        facts.append("running as non-root")
    return facts


def _join_facts(facts: list[str]) -> str:
    return (", " + ", ".join(facts)) if facts else ""


def describe_workload(doc: dict[str, Any], rng: random.Random) -> str:
    """Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Pod, Job and CronJob."""
    kind = str(doc.get("kind"))
    spec = pod_spec(doc) or {}
    lead = f"{_article(kind)} {kind}{_named(doc, rng)}{_in_namespace(doc)}"
    facts: list[str] = []
    replicas = _get(doc, "spec", "replicas")
    if isinstance(replicas, int) and kind != "Pod":
        facts.append(rng.choice([f"with {_plural(replicas, 'replica')}", f"scaled to {_plural(replicas, 'replica')}"]))
    if kind == "CronJob":
        schedule = _get(doc, "spec", "schedule")
        if schedule:
            facts.append(rng.choice([f'on the schedule "{schedule}"', f'that runs on the cron schedule "{schedule}"']))
    if kind in ("Job", "CronJob"):
        job = _get(doc, "spec") if kind == "Job" else _get(doc, "spec", "jobTemplate", "spec")
        for key, label in (("completions", "completions"), ("parallelism", "parallelism"),
                           ("backoffLimit", "backoff limit")):
            if isinstance(_get(job, key), int):
                facts.append(f"{label} {_get(job, key)}")
    if kind == "StatefulSet":
        service = _get(doc, "spec", "serviceName")
        if service:
            facts.append(f"governed by the service {service}")
        claims = _get(doc, "spec", "volumeClaimTemplates")
        if isinstance(claims, list) and claims:
            sizes = [str(_get(c, "spec", "resources", "requests", "storage")) for c in claims
                     if _get(c, "spec", "resources", "requests", "storage")]
            facts.append("with a volume claim template" + (f" of {_listing(sizes)}" if sizes else ""))
    facts.extend(_pod_facts(spec, rng))
    return lead + _join_facts(facts)


def describe_service(doc: dict[str, Any], rng: random.Random) -> str:
    spec = _mapping(_get(doc, "spec"))
    service_type = spec.get("type") if isinstance(spec, dict) else None
    if spec.get("clusterIP") == "None":
        lead = f"a headless Service{_named(doc, rng)}"
    elif service_type:
        lead = f"{_article(str(service_type))} {service_type} Service{_named(doc, rng)}"
    else:
        lead = f"a Service{_named(doc, rng)}"
    facts = []
    ports = []
    for port in spec.get("ports") or []:
        if isinstance(port, dict) and port.get("port") is not None:
            target = port.get("targetPort")
            mapped = target is not None and target != port["port"]
            ports.append(f"{port['port']}" + (f" to {target}" if mapped else ""))
    if ports:
        facts.append(rng.choice(["mapping port", "forwarding port", "on port"]) + ("s " if len(ports) > 1 else " ")
                     + _listing(ports))
    selector = spec.get("selector")
    if isinstance(selector, dict) and selector:
        pairs = [f"{k}={v}" for k, v in selector.items()]
        facts.append(rng.choice(["selecting pods labelled", "for pods with"]) + " " + _listing(pairs))
    return lead + _in_namespace(doc) + _join_facts(facts)


def describe_ingress(doc: dict[str, Any], rng: random.Random) -> str:
    spec = _mapping(_get(doc, "spec"))
    facts = []
    hosts = [str(r["host"]) for r in spec.get("rules") or [] if isinstance(r, dict) and r.get("host")]
    if hosts:
        facts.append(f"for host{'s' if len(hosts) > 1 else ''} {_listing(hosts)}")
    backends = []
    for rule in spec.get("rules") or []:
        for path in _get(rule, "http", "paths") or []:
            service = _get(path, "backend", "service", "name") or _get(path, "backend", "serviceName")
            if service:
                backends.append(f"{path.get('path', '/')} to {service}")
    if backends:
        facts.append(rng.choice(["routing", "sending"]) + " " + _listing(backends))
    if spec.get("tls"):
        facts.append("with TLS")
    class_name = spec.get("ingressClassName")
    if class_name:
        facts.append(f"using the {class_name} ingress class")
    return f"an Ingress{_named(doc, rng)}{_in_namespace(doc)}" + _join_facts(facts)


def describe_keyed(doc: dict[str, Any], rng: random.Random) -> str:
    """ConfigMap and Secret: name the keys, never the values."""
    kind = str(doc.get("kind"))
    keys: list[str] = []
    for field in ("data", "stringData", "binaryData"):
        if isinstance(doc.get(field), dict):
            keys.extend(str(k) for k in doc[field])
    facts = []
    if kind == "Secret" and doc.get("type"):
        facts.append(f"of type {doc['type']}")
    if keys:
        facts.append(rng.choice(["holding", "with the key" + ("s" if len(keys) > 1 else ""), "containing"]) + " "
                     + _listing(keys))
    return f"{_article(kind)} {kind}{_named(doc, rng)}{_in_namespace(doc)}" + _join_facts(facts)


def describe_hpa(doc: dict[str, Any], rng: random.Random) -> str:
    spec = _mapping(_get(doc, "spec"))
    facts = []
    target = spec.get("scaleTargetRef")
    if isinstance(target, dict) and target.get("name"):
        facts.append(f"scaling the {target.get('kind', 'workload')} {target['name']}")
    low, high = spec.get("minReplicas"), spec.get("maxReplicas")
    if low is not None and high is not None:
        facts.append(rng.choice([f"between {low} and {high} replicas", f"from {low} to {high} replicas"]))
    elif high is not None:
        facts.append(f"up to {high} replicas")
    cpu = spec.get("targetCPUUtilizationPercentage")
    for metric in spec.get("metrics") or []:
        utilization = _get(metric, "resource", "target", "averageUtilization")
        if utilization is not None:
            facts.append(f"targeting {utilization}% average {_get(metric, 'resource', 'name')} utilization")
    if cpu is not None:
        facts.append(f"targeting {cpu}% CPU utilization")
    return f"a HorizontalPodAutoscaler{_named(doc, rng)}{_in_namespace(doc)}" + _join_facts(facts)


def describe_pvc(doc: dict[str, Any], rng: random.Random) -> str:
    spec = _mapping(_get(doc, "spec"))
    facts = []
    size = _get(spec, "resources", "requests", "storage")
    if size:
        facts.append(rng.choice([f"requesting {size} of storage", f"of {size}"]))
    modes = spec.get("accessModes")
    if isinstance(modes, list) and modes:
        facts.append(f"with access mode {_listing([str(m) for m in modes], 'or')}")
    if spec.get("storageClassName"):
        facts.append(f"using the storage class {spec['storageClassName']}")
    return f"a PersistentVolumeClaim{_named(doc, rng)}{_in_namespace(doc)}" + _join_facts(facts)


def describe_network_policy(doc: dict[str, Any], rng: random.Random) -> str:
    spec = _mapping(_get(doc, "spec"))
    facts = []
    selector = _get(spec, "podSelector", "matchLabels")
    if isinstance(selector, dict) and selector:
        facts.append("for pods labelled " + _listing([f"{k}={v}" for k, v in selector.items()]))
    elif isinstance(spec.get("podSelector"), dict):
        facts.append("for all pods in the namespace")
    types = spec.get("policyTypes")
    ingress, egress = spec.get("ingress"), spec.get("egress")
    if isinstance(types, list) and "Ingress" in types and not ingress:
        facts.append("denying all ingress traffic")
    elif ingress:
        facts.append("allowing selected ingress traffic")
    if isinstance(types, list) and "Egress" in types and not egress:
        facts.append("denying all egress traffic")
    elif egress:
        facts.append("allowing selected egress traffic")
    return f"a NetworkPolicy{_named(doc, rng)}{_in_namespace(doc)}" + _join_facts(facts)


def describe_role(doc: dict[str, Any], rng: random.Random) -> str:
    """Role and ClusterRole: verbs on resources."""
    kind = str(doc.get("kind"))
    grants = []
    for rule in doc.get("rules") or []:
        if isinstance(rule, dict) and rule.get("verbs") and rule.get("resources"):
            grants.append(f"{'/'.join(map(str, rule['verbs']))} on {', '.join(map(str, rule['resources']))}")
    facts = [rng.choice(["granting", "allowing"]) + " " + "; ".join(grants[:MAX_LISTED])] if grants else []
    return f"a {kind}{_named(doc, rng)}{_in_namespace(doc)}" + _join_facts(facts)


def describe_binding(doc: dict[str, Any], rng: random.Random) -> str:
    """RoleBinding and ClusterRoleBinding: role and subjects."""
    kind = str(doc.get("kind"))
    facts = []
    role = doc.get("roleRef")
    if isinstance(role, dict) and role.get("name"):
        facts.append(f"binding the {role.get('kind', 'role')} {role['name']}")
    subjects = [f"{s.get('kind', 'subject')} {s.get('name')}" for s in doc.get("subjects") or []
                if isinstance(s, dict) and s.get("name")]
    if subjects:
        facts.append("to " + _listing(subjects))
    return f"a {kind}{_named(doc, rng)}{_in_namespace(doc)}" + _join_facts(facts)


def describe_named(doc: dict[str, Any], rng: random.Random) -> str:
    """ServiceAccount, Namespace and any kind with nothing more to say than its name."""
    kind = str(doc.get("kind"))
    return f"{_article(kind)} {kind}{_named(doc, rng)}{_in_namespace(doc)}"


def describe_other(doc: dict[str, Any], rng: random.Random) -> str:
    """Graceful fallback for any other kind (custom resources included): kind, API group and top-level spec keys."""
    kind = str(doc.get("kind") or "resource")
    api = str(doc.get("apiVersion") or "")
    lead = f"{_article(kind)} {kind}{_named(doc, rng)}{_in_namespace(doc)}"
    if "/" in api and rng.random() < 0.5:
        lead += f" ({api})"
    spec = doc.get("spec")
    if isinstance(spec, dict) and spec:
        keys = [str(k) for k in spec][:MAX_LISTED]
        lead += rng.choice([" setting ", " configuring "]) + _listing(keys)
    return lead


DESCRIBERS: dict[str, Describer] = {
    **{kind: describe_workload for kind in WORKLOAD_POD_SPEC_PATHS},
    "Service": describe_service,
    "Ingress": describe_ingress,
    "ConfigMap": describe_keyed,
    "Secret": describe_keyed,
    "HorizontalPodAutoscaler": describe_hpa,
    "PersistentVolumeClaim": describe_pvc,
    "NetworkPolicy": describe_network_policy,
    "Role": describe_role,
    "ClusterRole": describe_role,
    "RoleBinding": describe_binding,
    "ClusterRoleBinding": describe_binding,
    "ServiceAccount": describe_named,
    "Namespace": describe_named,
}


def describe(doc: dict[str, Any], rng: random.Random) -> str:
    """A noun phrase for one document, e.g. `a Deployment named "web" with 3 replicas, running nginx:1.25`."""
    describer = DESCRIBERS.get(str(doc.get("kind")), describe_other)
    try:
        phrase = describer(doc, rng)
    except (AttributeError, TypeError, KeyError, ValueError):  # a malformed document: say what we safely can
        logger.debug("describer %s failed on %s; using the name only", describer.__name__, doc.get("kind"))
        phrase = describe_named(doc, rng)
    return re.sub(r"\s+", " ", phrase).strip()
