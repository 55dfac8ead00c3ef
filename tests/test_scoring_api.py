"""Public API of k8s_scoring: analyze / score / reward_fn on hand-checked YAML, validity, complexity, quality."""

from __future__ import annotations

import json
import math
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
    assert set(result) == {"yaml_valid", "schema_valid", "verified", "bp", "security", "complexity", "quality"}
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


NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n"
SMALL_DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n"
    "    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n"
    "      containers:\n      - name: web\n        image: nginx:1.27\n"
)
SLOW_CLASS = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: slow}\nprovisioner: %s\n"
WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\nspec: {size: 3}\n"


def test_services_only_input_has_no_security_score() -> None:
    # A Service has only bp.explicit_namespace applicable and no security check: BP 100 %, security n/a (NaN, not
    # 1), and quality is renormalised over BP and complexity (0.5 + 0.2) instead of crediting a vacuous 0.3.
    result = score(SERVICE)
    assert result["bp"] == 100.0 and math.isnan(result["security"]) and result["schema_valid"] == 1.0
    assert result["quality"] == pytest.approx(100 * (0.5 + 0.2 * result["complexity"]) / 0.7)


@pytest.mark.parametrize(
    ("prediction", "reference", "applies"),
    [
        # the reference needs BP and security checks, a bare Namespace has none: both count 0 (left out the workload)
        (NAMESPACE, SMALL_DEPLOYMENT, {"bp": 0.0, "security": 0.0}),
        # neither side has a BP or security check: both leave the sum; CodeBLEU and complexity share the weight
        (NAMESPACE, NAMESPACE, {}),
        # the issue's StorageClass pair: no free 0.6 from vacuous passes (was reward 0.85, quality 100)
        (SLOW_CLASS % "kubernetes.io/azure-disk", SLOW_CLASS % "kubernetes.io/aws-ebs", {}),
    ],
)
def test_reward_renormalises_over_components_that_apply(prediction, reference, applies) -> None:
    result = score(prediction, reference)
    weights = {"codebleu": 0.3, "complexity": 0.1, **{k: {"bp": 0.4, "security": 0.2}[k] for k in applies}}
    values = {"codebleu": result["codebleu"], "complexity": result["complexity"], **applies}
    expected = sum(weights[k] * values[k] for k in weights) / sum(weights.values())
    assert result["reward"] == pytest.approx(expected)
    assert math.isnan(result["bp"]) and math.isnan(result["security"]) and math.isnan(result["quality"])


def test_identical_namespace_keeps_full_reward() -> None:
    assert score(NAMESPACE, NAMESPACE)["reward"] == pytest.approx(1.0)


def test_invalid_storage_class_earns_nothing() -> None:
    # `provisioner: kubernetes.io/v1 slow` is rejected by the API server (validateProvisioner): schema_valid 0 gates
    # the reward to 0, where it used to earn 0.85
    result = score(SLOW_CLASS % "kubernetes.io/v1 slow", SLOW_CLASS % "kubernetes.io/azure-disk")
    assert result["schema_valid"] == 0.0 and result["reward"] == 0.0


def test_unverifiable_custom_resource_earns_no_validity_credit() -> None:
    # no schema is known for example.com/v1 Widget: not an error (validate), but no credit in score / reward_fn
    assert validate(WIDGET).schema_valid and not validate(WIDGET).verified
    assert score(WIDGET)["schema_valid"] == 0.0 and score(WIDGET)["quality"] == 0.0
    assert reward_fn([WIDGET], [WIDGET]) == [0.0]
    # next to a verified Deployment: half of the objects are verified (the credit), but not schema-valid as a whole
    both = score(SMALL_DEPLOYMENT + "---\n" + WIDGET)
    assert (both["verified"], both["schema_valid"]) == (0.5, 0.0)
    assert score(SMALL_DEPLOYMENT)["schema_valid"] == score(SMALL_DEPLOYMENT)["verified"] == 1.0


def test_custom_resource_checked_against_a_crd_in_the_same_input() -> None:
    crd = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
              mode: {type: string, enum: [fast, slow], nullable: true}
"""
    good = validate(crd + "---\n" + WIDGET)
    assert good.schema_valid and good.verified and good.unchecked_kinds == []
    bad = validate(crd + "---\n" + WIDGET.replace("size: 3", "size: 0, mode: turbo"))
    assert not bad.schema_valid
    assert {(i.rule, i.path) for i in bad.issues} == {("crd-schema", "spec.mode"), ("crd-schema", "spec.size")}


def test_custom_resource_checked_against_the_bundled_catalog(monkeypatch, tmp_path) -> None:
    # the catalog format written by `python -m k8s_scoring._build_crd_schemas`: key -> schema + provenance
    import gzip

    from k8s_scoring import crd_schemas
    from k8s_scoring._build_crd_schemas import main as build

    corpus = tmp_path / "corpus.jsonl"
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"}, "scope": "Namespaced",
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "object", "properties": {
                            "size": {"type": "integer"}}}}}}}]}}  # fmt: skip
    corpus.write_text(json.dumps({"kind": "CustomResourceDefinition", "yaml": yaml.safe_dump(crd),
                                  "source": "example/widgets", "path": "crds/widget.yaml", "commit": "abc",
                                  "license": "Apache-2.0"}) + "\n")  # fmt: skip
    out = tmp_path / "catalog.json.gz"
    assert build(["--corpus", str(corpus), "--output", str(out)]) == 0
    payload = json.loads(gzip.decompress(out.read_bytes()))
    entry = payload["schemas"]["example.com/v1/Widget"]
    assert (entry["source"], entry["license"], entry["path"]) == ("example/widgets", "Apache-2.0", "crds/widget.yaml")
    monkeypatch.setattr(crd_schemas, "catalog", lambda: payload["schemas"])
    assert validate(WIDGET).verified  # size: 3 is an integer
    bad = validate(WIDGET.replace("size: 3", "size: big"))
    assert not bad.schema_valid and bad.issues[0].path == "spec.size" and bad.issues[0].rule == "crd-schema"
