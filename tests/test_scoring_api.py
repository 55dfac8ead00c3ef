"""Public API of k8s_scoring: analyze / score / reward_fn on hand-checked YAML, validity, complexity, quality."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import k8s_scoring
from k8s_scoring import RewardWeights, analyze, complexity, quality, reward_fn, score, validate
from k8s_scoring.documents import parse
from k8s_scoring.schema import schema_registry

CORPUS = Path(__file__).resolve().parents[1] / "k8s_data" / "corpus" / "manifests.jsonl"  # the bundled corpus

# Hand-checked: a bare Deployment. BP: only bp.selector_matches_labels passes of 10 applicable (anti-affinity is n/a
# with 1 replica) -> 10 %. Security: fails run_as_non_root (2), no_privilege_escalation (2), read_only_root_fs (1),
# drop_all_capabilities (1), seccomp (1), automount (1); total weight 3*6 + 2*3 + 1*5 = 29, failed 8 -> 21/29.
BARE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""


def test_public_names() -> None:
    for name in ("analyze", "Analysis", "ObjectResult", "CheckResult", "CHECKS", "CHECKS_BY_ID", "score", "reward_fn",
                 "validate", "complexity", "codebleu_yaml", "repair", "RewardWeights"):
        assert getattr(k8s_scoring, name) is not None, name
    assert callable(k8s_scoring.repair)  # the function, not the submodule of the same name


def test_analyze_bare_deployment() -> None:
    analysis = analyze(BARE)
    assert analysis.valid and analysis.errors == []
    (obj,) = analysis.objects
    assert (obj.doc_index, obj.kind, obj.name, obj.namespace) == (0, "Deployment", "web", None)
    assert obj.checks["bp.pod_anti_affinity_or_spread"] == "n/a"
    assert analysis.bp == pytest.approx(10.0)
    assert analysis.security == pytest.approx(21 / 29)


def test_score_keys_and_values() -> None:
    result = score(BARE)
    assert set(result) == {"yaml_valid", "schema_valid", "bp", "security", "complexity", "quality"}
    assert result["yaml_valid"] == 1.0 and result["schema_valid"] == 1.0
    assert result["bp"] == pytest.approx(10.0) and result["security"] == pytest.approx(21 / 29)
    assert result["complexity"] == 1.0  # 15 lines, depth 6: below the Deployment p90 of the corpus
    assert result["quality"] == pytest.approx(100 * (0.5 * 0.1 + 0.3 * 21 / 29 + 0.2 * 1.0))


def test_score_with_reference_and_reward_fn() -> None:
    result = score(BARE, BARE)
    assert result["codebleu"] == pytest.approx(1.0)
    expected = 0.3 * 1.0 + 0.4 * 0.1 + 0.2 * 21 / 29 + 0.1 * result["complexity"]
    assert result["reward"] == pytest.approx(expected)
    rewards = reward_fn([BARE, "not: [yaml", SERVICE], [BARE, BARE, SERVICE])
    assert rewards[0] == pytest.approx(expected)
    assert rewards[1] == 0.0  # invalid YAML gets 0
    assert rewards == [score(c, r)["reward"] for c, r in zip([BARE, "not: [yaml", SERVICE], [BARE, BARE, SERVICE])]
    custom = reward_fn([BARE], [BARE], weights={"codebleu": 1.0, "bp": 0.0, "security": 0.0, "complexity": 0.0})
    assert custom == [pytest.approx(1.0)]
    with pytest.raises(ValueError):
        reward_fn([BARE], [])
    with pytest.raises(ValueError):
        RewardWeights(bp=-1.0)


def test_reward_normalises_weights() -> None:
    doubled = reward_fn([BARE], [BARE], RewardWeights(0.6, 0.8, 0.4, 0.2))
    assert doubled == pytest.approx(reward_fn([BARE], [BARE]))


def test_quality_formula() -> None:
    assert quality(1.0, 100.0, 1.0, 1.0) == pytest.approx(100.0)
    assert quality(0.0, 100.0, 1.0, 1.0) == 0.0  # schema-invalid -> 0
    assert quality(1.0, 50.0, 0.5, 0.25) == pytest.approx(100 * (0.25 + 0.15 + 0.05))


def test_schema_validity_levels() -> None:
    ok = validate(BARE)
    assert ok.yaml_valid and ok.schema_valid and ok.errors == [] and ok.unchecked_kinds == []
    typo = validate(BARE.replace("replicas: 1", "replica: 1"))  # unknown field rejected (strict schemas)
    assert typo.yaml_valid and not typo.schema_valid
    assert "replica" in typo.errors[0]
    wrong_type = validate(BARE.replace("replicas: 1", "replicas: two"))
    assert not wrong_type.schema_valid and "replicas" in wrong_type.errors[0]
    removed = validate(BARE.replace("apps/v1", "extensions/v1beta1"))  # built-in group, not served by 1.33
    assert removed.yaml_valid and not removed.schema_valid
    crd = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {anything: [1, 2]}\n"
    custom = validate(crd)  # custom resource: YAML-checked only, and the report says so
    assert custom.yaml_valid and custom.schema_valid and custom.unchecked_kinds == ["example.com/v1/Widget"]
    assert score(BARE.replace("replicas: 1", "replica: 1"))["quality"] == 0.0


def test_missing_name_is_yaml_invalid() -> None:
    result = validate("apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: x}\n")
    assert not result.yaml_valid and "metadata.name" in result.errors[0]
    assert validate("apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: run-}\nspec:\n  template:\n    spec:\n"
                    "      restartPolicy: Never\n      containers: [{name: a, image: 'busybox:1'}]\n").schema_valid


def _corpus_docs(limit: int) -> list[dict]:
    docs = []
    with CORPUS.open() as handle:
        for line in handle:
            parsed = parse(json.loads(line)["yaml"])
            docs.extend(obj.data for obj in parsed.objects if schema_registry().has_schema(obj.api_version, obj.kind))
            if len(docs) >= limit:
                break
    return docs


@pytest.mark.skipif(not CORPUS.exists(), reason="bundled corpus not present")
def test_compiled_validator_agrees_with_jsonschema_on_corpus_and_mutations() -> None:
    registry = schema_registry()
    docs = _corpus_docs(400)
    mutated = []
    for doc in docs[:150]:  # the same documents with an unknown field and a type error injected
        mutated.append({**doc, "bogusField": 1})
        mutated.append({**doc, "metadata": {**doc["metadata"], "labels": {"a": ["not", "a", "string"]}}})
    assert len(docs) >= 400
    assert sum(not registry.validator(d["apiVersion"], d["kind"])(d) for d in mutated) == len(mutated)
    for doc in docs + mutated:
        fast = registry.validator(doc["apiVersion"], doc["kind"])(doc)
        assert fast == (registry.explain(doc["apiVersion"], doc["kind"], doc) is None), (doc["kind"], doc["metadata"])


def test_complexity_monotone_under_junk_keys() -> None:
    base = yaml.safe_load(BARE)
    previous = complexity(BARE)
    reference_previous = complexity(BARE, BARE)
    container = base["spec"]["template"]["spec"]["containers"][0]
    for i in range(60):  # adding junk keys, some nested deeper, never raises the score
        container[f"junk{i}"] = {"a": {"b": {"c": i}}} if i % 7 == 0 else i
        text = yaml.safe_dump(base)
        current, reference_current = complexity(text), complexity(text, BARE)
        assert current <= previous + 1e-12 and reference_current <= reference_previous + 1e-12
        previous, reference_previous = current, reference_current
    assert previous < 1.0 and reference_previous < 1.0
    assert complexity("not: [valid") == 0.0
    assert complexity(BARE, BARE) == 1.0


def test_complexity_never_rises_when_an_object_is_added() -> None:
    bloated = yaml.safe_load(BARE)
    bloated["metadata"]["labels"] = {f"k{i}": "v" for i in range(200)}
    text = yaml.safe_dump(bloated)
    assert complexity(text + "---\n" + SERVICE) <= complexity(text) < 1.0


def test_services_only_input_scores_vacuous_checks_fully() -> None:
    # A Service has only bp.explicit_namespace applicable and no security check: BP 100 %, security 1.
    result = score(SERVICE)
    assert result["bp"] == 100.0 and result["security"] == 1.0 and result["schema_valid"] == 1.0


def test_reward_gives_no_credit_for_vacuous_passes_when_the_reference_needs_checks():
    # A bare Namespace passes every applicable check vacuously (BP 100, security 1 on its own), but when the
    # reference is a Deployment the prediction left the workload out: BP and security count 0 in the reward.
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n"
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n"
        "    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n"
        "      containers:\n      - name: web\n        image: nginx:1.27\n"
    )
    vs_deployment = score(namespace, deployment)
    assert vs_deployment["bp"] == 100.0 and vs_deployment["security"] == 1.0  # reference-free keys unchanged
    expected = (0.3 * vs_deployment["codebleu"] + 0.1 * vs_deployment["complexity"]) / 1.0
    assert vs_deployment["reward"] == pytest.approx(expected)
    # ... while a Namespace asked for by a Namespace reference keeps its full credit.
    assert score(namespace, namespace)["reward"] == pytest.approx(1.0)
