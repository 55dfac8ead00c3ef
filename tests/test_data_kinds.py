"""Kind detection from intents (`k8s_data.kinds`): one case per synonym, plurals, and the context rules."""

import pytest

from k8s_data.kinds import KIND_SYNONYMS, MULTI_KIND_PHRASES, detect_kinds, plural

# (intent, expected kinds) - one case per synonym in KIND_SYNONYMS / MULTI_KIND_PHRASES, written by hand.
SYNONYM_CASES: list[tuple[str, str, list[str]]] = [
    ("deployment", "an nginx deployment with 3 replicas", ["Deployment"]),
    ("statefulset", "a postgres statefulset", ["StatefulSet"]),
    ("stateful set", "a stateful set for mysql", ["StatefulSet"]),
    ("daemonset", "a fluentd daemonset on every node", ["DaemonSet"]),
    ("daemon set", "a log collector daemon set", ["DaemonSet"]),
    ("replicaset", "a replicaset of three frontends", ["ReplicaSet"]),
    ("replica set", "a replica set for the frontend", ["ReplicaSet"]),
    ("job", "a job that migrates the database", ["Job"]),
    ("batch job", "a batch job computing pi", ["Job"]),
    ("cronjob", "a cronjob that prunes images", ["CronJob"]),
    ("cron job", "a cron job running at midnight", ["CronJob"]),  # not also a Job: words are used once
    ("scheduled job", "a scheduled job for backups", ["CronJob"]),
    ("cron", "a nightly cron that backs up postgres", ["CronJob"]),
    ("pod", "a single pod running busybox", ["Pod"]),
    ("bare pod", "a bare pod with curl", ["Pod"]),
    ("service", "a service on port 80", ["Service"]),
    ("svc", "a svc for redis", ["Service"]),
    ("load balancer", "expose it with a load balancer", ["Service"]),
    ("loadbalancer", "nginx deployment with 3 replicas behind a LoadBalancer", ["Deployment", "Service"]),
    ("nodeport", "a nodeport for the dashboard", ["Service"]),
    ("node port", "a node port for grafana", ["Service"]),
    ("clusterip", "a clusterip for the api", ["Service"]),
    ("headless service", "postgres statefulset with a headless service", ["StatefulSet", "Service"]),
    ("ingress", "an ingress for example.com", ["Ingress"]),
    ("ingressclass", "an ingressclass for nginx", ["IngressClass"]),
    ("ingress class", "a default ingress class", ["IngressClass"]),  # longest phrase wins over "ingress"
    ("persistentvolumeclaim", "a PersistentVolumeClaim of 1Gi", ["PersistentVolumeClaim"]),
    ("persistent volume claim", "a persistent volume claim for data", ["PersistentVolumeClaim"]),
    ("volume claim", "a volume claim of 10Gi", ["PersistentVolumeClaim"]),
    ("pvc", "a pvc for uploads", ["PersistentVolumeClaim"]),
    ("persistent storage", "redis with persistent storage of 5Gi", ["PersistentVolumeClaim"]),
    ("persistentvolume", "a PersistentVolume on a hostPath", ["PersistentVolume"]),
    ("persistent volume", "a persistent volume of 20Gi", ["PersistentVolume"]),
    ("pv", "a pv backed by nfs", ["PersistentVolume"]),
    ("storageclass", "a StorageClass for ssd disks", ["StorageClass"]),
    ("storage class", "a storage class with gp3", ["StorageClass"]),
    ("configmap", "a configmap with app settings", ["ConfigMap"]),
    ("config map", "a config map holding nginx.conf", ["ConfigMap"]),
    ("secret", "a secret with the db password", ["Secret"]),
    ("horizontalpodautoscaler", "a HorizontalPodAutoscaler for web", ["HorizontalPodAutoscaler"]),
    ("horizontal pod autoscaler", "a horizontal pod autoscaler at 70% cpu", ["HorizontalPodAutoscaler"]),
    ("hpa", "an hpa between 2 and 10 replicas", ["HorizontalPodAutoscaler"]),
    ("autoscaler", "an autoscaler for the api", ["HorizontalPodAutoscaler"]),
    ("autoscale", "a deployment that can autoscale", ["Deployment", "HorizontalPodAutoscaler"]),
    ("autoscaling", "a deployment with autoscaling on cpu", ["Deployment", "HorizontalPodAutoscaler"]),
    ("networkpolicy", "a NetworkPolicy that denies all traffic", ["NetworkPolicy"]),
    ("network policy", "a network policy allowing port 5432", ["NetworkPolicy"]),
    ("netpol", "a netpol for the db", ["NetworkPolicy"]),
    ("serviceaccount", "a ServiceAccount for the controller", ["ServiceAccount"]),  # not also a Service
    ("service account", "a service account for ci", ["ServiceAccount"]),
    ("role", "a role that reads pods", ["Role"]),
    ("clusterrole", "a ClusterRole to list nodes", ["ClusterRole"]),
    ("cluster role", "a cluster role for metrics", ["ClusterRole"]),
    ("rolebinding", "a RoleBinding for the team", ["RoleBinding"]),
    ("role binding", "a role binding for alice", ["RoleBinding"]),
    ("clusterrolebinding", "a ClusterRoleBinding for the operator", ["ClusterRoleBinding"]),
    ("cluster role binding", "a cluster role binding for prometheus", ["ClusterRoleBinding"]),
    ("namespace", "a namespace called staging", ["Namespace"]),
    ("poddisruptionbudget", "a PodDisruptionBudget with minAvailable 2", ["PodDisruptionBudget"]),
    ("pod disruption budget", "a pod disruption budget for zookeeper", ["PodDisruptionBudget"]),  # not a Pod
    ("pdb", "a pdb for the api", ["PodDisruptionBudget"]),
    ("resourcequota", "a ResourceQuota for the team", ["ResourceQuota"]),
    ("resource quota", "a resource quota of 10 cpus", ["ResourceQuota"]),
    ("limitrange", "a LimitRange with default limits", ["LimitRange"]),
    ("limit range", "a limit range for containers", ["LimitRange"]),
    ("rbac", "a deployment with rbac", ["Deployment", "Role", "RoleBinding"]),
]


@pytest.mark.parametrize(("synonym", "intent", "expected"), SYNONYM_CASES, ids=[c[0] for c in SYNONYM_CASES])
def test_each_synonym(synonym, intent, expected):
    assert detect_kinds(intent) == expected


def test_every_synonym_has_a_case():
    # a synonym added to the table without a case here fails: the table and its tests stay together
    table = {p for phrases in KIND_SYNONYMS.values() for p in phrases} | set(MULTI_KIND_PHRASES)
    assert table == {case[0] for case in SYNONYM_CASES}


@pytest.mark.parametrize(
    ("intent", "expected"),
    [
        ("three deployments and two services", ["Deployment", "Service"]),  # plurals
        ("two network policies", ["NetworkPolicy"]),  # policy -> policies
        ("ingresses for both hosts", ["Ingress"]),  # ingress -> ingresses
        ("two pvcs", ["PersistentVolumeClaim"]),  # abbreviation plural
        ('a Deployment named "web-service"', ["Deployment"]),  # quoted names are not requests
        ("a Deployment called per-pod-limits", ["Deployment"]),  # hyphenated names stay one word
        ("a Pod in the default namespace", ["Pod"]),  # "in the ... namespace" says where
        ("a deployment selecting pods labelled app=web", ["Deployment"]),  # generic pods
        ("a Pod mounting a ConfigMap and a PersistentVolumeClaim", ["Pod"]),  # mounted objects are references
        ("a Pod with the password from the Secret", ["Pod"]),  # referenced, not requested
        ("a NetworkPolicy denying all ingress traffic", ["NetworkPolicy"]),  # ingress traffic is not an Ingress
        ("image nginx:1.25 on apps/v1", []),  # images and apiVersions are names
        ("something unrelated", []),
        ("a StatefulSet and a Service and a StatefulSet", ["StatefulSet", "Service"]),  # each kind once, in order
    ],
)
def test_context_rules(intent, expected):
    assert detect_kinds(intent) == expected


def test_extra_kinds_only_in_camel_case_and_not_sentence_start():
    extra = ["ScaledObject", "Gateway", "HTTPRoute"]
    assert detect_kinds("a ScaledObject for the worker", extra) == ["ScaledObject"]
    assert detect_kinds("Set up a Gateway and a HTTPRoute", extra) == ["Gateway", "HTTPRoute"]
    # a capitalised ordinary word opening a sentence is not a kind
    assert detect_kinds("Gateway traffic is routed. Create a deployment", extra) == ["Deployment"]


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [("policy", "policies"), ("ingress", "ingresses"), ("pod", "pods"), ("network policy", "network policies"),
     ("day", "days")],  # vowel + y keeps the y
)
def test_plural(phrase, expected):
    assert plural(phrase) == expected
