"""Intent synthesis per kind on real corpus examples, real-description selection, best-practice honesty."""

import random

import pytest

from k8s_data.best_practices import absent_best_practices
from k8s_data.build import build_examples
from k8s_data.corpus import load_corpus
from k8s_data.examples import ExampleFilter, group_examples
from k8s_data.intents import build_intent, clean_description, select_description, synthesize_intent


@pytest.fixture(scope="module")
def examples():
    kept, _ = ExampleFilter().apply(group_examples(load_corpus()))
    return kept


def first_of_kind(examples, kind):
    """The first real single-document example of `kind` in corpus order."""
    return next(e for e in examples if len(e.docs) == 1 and e.docs[0].get("kind") == kind)


def spec(doc, *path):
    for key in path:
        doc = doc[key]
    return doc


# kind -> a fact of the document that the synthesised intent must state
KIND_FACTS = {
    "Deployment": lambda d: spec(d, "spec", "template", "spec", "containers")[0]["image"],
    "StatefulSet": lambda d: spec(d, "spec", "template", "spec", "containers")[0]["image"],
    "DaemonSet": lambda d: spec(d, "spec", "template", "spec", "containers")[0]["image"],
    "Pod": lambda d: spec(d, "spec", "containers")[0]["image"],
    "Job": lambda d: spec(d, "spec", "template", "spec", "containers")[0]["image"],
    "CronJob": lambda d: spec(d, "spec", "schedule"),
    "Service": lambda d: str(spec(d, "spec", "ports")[0]["port"]),
    "ConfigMap": lambda d: next(iter(d.get("data") or d.get("binaryData"))),
    "Secret": lambda d: next(iter(d.get("data") or d.get("stringData") or {"": ""})),
    "Ingress": lambda d: "Ingress",
    "HorizontalPodAutoscaler": lambda d: f"{spec(d, 'spec', 'maxReplicas')} replicas",
    "PersistentVolumeClaim": lambda d: spec(d, "spec", "resources", "requests", "storage"),
    "NetworkPolicy": lambda d: "NetworkPolicy",
    "Role": lambda d: spec(d, "rules")[0]["verbs"][0],
    "ClusterRole": lambda d: spec(d, "rules")[0]["verbs"][0],
    "RoleBinding": lambda d: spec(d, "roleRef", "name"),
    "ClusterRoleBinding": lambda d: spec(d, "roleRef", "name"),
    "ServiceAccount": lambda d: "ServiceAccount",
    "ScaledObject": lambda d: "ScaledObject",  # a custom resource: the graceful fallback
}


@pytest.mark.parametrize("kind", sorted(KIND_FACTS))
def test_synthesized_intent_per_kind_on_real_example(examples, kind):
    example = first_of_kind(examples, kind)
    doc = example.docs[0]
    intent = synthesize_intent(example.docs, random.Random(0))
    assert kind in intent
    assert doc["metadata"]["name"] in intent
    assert KIND_FACTS[kind](doc) in intent, intent
    assert absent_best_practices(intent, example.yaml) == []
    if kind == "Secret":  # keys may be named, values never
        for value in (doc.get("data") or {}).values():
            assert str(value) not in intent


def test_phrasing_varies_with_seed_and_is_deterministic(examples):
    example = first_of_kind(examples, "Deployment")
    args = (example.records, example.docs, example.yaml)
    intents = {build_intent(*args, seed=s, example_id=example.id, description_mode="never")[0] for s in range(8)}
    assert len(intents) >= 3
    assert build_intent(*args, seed=3, example_id=example.id) == build_intent(*args, seed=3, example_id=example.id)


def test_multi_document_intent_names_every_object(examples):
    example = next(e for e in examples if [d.get("kind") for d in e.docs] == ["Deployment", "Service"])
    intent = synthesize_intent(example.docs, random.Random(1))
    assert "Deployment" in intent and "Service" in intent


@pytest.mark.parametrize(
    ("intent", "yaml_text", "absent"),
    [
        ("a pod with resource limits", "kind: Pod\nspec:\n  containers:\n  - name: a\n", ["resources"]),
        ("a pod with resource limits", "spec:\n  containers:\n  - resources:\n      limits: {cpu: 1}\n", []),
        ("with liveness and readiness probes", "livenessProbe:\n  httpGet: {}\n", ["readiness-probe"]),
        ("running as non-root", "securityContext:\n  runAsNonRoot: true\n", []),
        ("running as non-root", "securityContext:\n  runAsUser: 0\n", ["non-root"]),
        ("routes HTTP requests to the app", "kind: Service\n", []),  # "requests" alone is not a best practice
        # naming an object is not asking for a field, but the name does not excuse a real request
        ('a Pod "with-affinity-anti-affinity"', "metadata:\n  name: with-affinity-anti-affinity\n", []),
        ('a Pod "with-limits" with resource limits', "metadata:\n  name: with-limits\n", ["resources"]),
        ("protect it with a PodDisruptionBudget-like disruption budget", "kind: Deployment\n",
         ["pod-disruption-budget"]),
        # a custom resource's own settings blocks: the operator creates the probes / the PDB (corpus v2 examples)
        ("a Cluster setting instances, probes and storage", "kind: Cluster\nspec:\n  probes:\n    startup: {}\n", []),
        ("a RedisSentinel configuring clusterSize and pdb", "kind: RedisSentinel\nspec:\n  pdb:\n    enabled: true\n",
         []),
    ],
)
def test_absent_best_practices(intent, yaml_text, absent):
    assert absent_best_practices(intent, yaml_text) == absent


def test_no_intent_mentions_absent_best_practices():
    rows = build_examples(pattern_mode="none")
    bad = [(r["id"], r["intent"]) for r in rows if absent_best_practices(r["intent"], r["yaml"])]
    assert bad == []
    sources = {r["intent_source"] for r in rows}
    assert {"synthesized", "markdown", "docs", "comment", "readme"} <= sources


def test_description_cleaning_and_selection(examples):
    assert clean_description("2. Create a [Pod](https://x.io) with `nginx`. Save it to pod.yaml:") == (
        "Create a Pod with nginx."
    )
    assert clean_description("For example:") == ""
    # a description asking for limits the target lacks is not used
    example = first_of_kind(examples, "ServiceAccount")
    record = example.records[0]
    fake = type(record)(**{**record.__dict__, "description": "A service account with CPU limits for the app.",
                           "description_source": "comment:x.yaml"})
    assert select_description([fake], example.docs, example.yaml) is None
    ok = type(record)(**{**fake.__dict__, "description": "A service account used by the metrics scraper."})
    assert select_description([ok], example.docs, example.yaml) == (ok.description, "comment")
    # a README description is used only when it names the target's kind or objects
    weak = type(record)(**{**ok.__dict__, "description_source": "readme:README.md",
                           "description": "This folder shows many demos of the platform."})
    assert select_description([weak], example.docs, example.yaml) is None
