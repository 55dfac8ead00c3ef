"""The `evaluate` metrics under metrics/: loading offline from the repository root, hand-checked values, doctests."""

from __future__ import annotations

import doctest
import math
import sys
from pathlib import Path

import evaluate
import pytest

import k8s_scoring

REPO = Path(__file__).resolve().parent.parent
METRICS = ("k8s_best_practices", "k8s_security", "k8s_validity", "yaml_codebleu", "k8s_reward")

# Passes all 11 BP checks (namespace, 2 replicas, topologySpreadConstraints, probes, requests/limits, pinned tag,
# selector = template labels) and every security check (pod-level runAsNonRoot + seccomp, container hardening).
GOOD_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule,
         labelSelector: {matchLabels: {app: web}}}
      containers:
      - name: web
        image: nginx:1.25.3
        livenessProbe: {httpGet: {path: /, port: 80}}
        readinessProbe: {httpGet: {path: /, port: 80}}
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {cpu: 200m, memory: 128Mi}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
"""
# A bare Pod: of the 8 BP checks that apply to a Pod (probes 2, requests 2, limits 2, tag, namespace) it passes
# only bp.explicit_namespace -> 1/8 = 12.5 %.
BARE_POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n"
    "spec:\n  containers:\n  - {name: web, image: nginx}\n"
)
# A Service has no container checks: only bp.explicit_namespace applies (missing -> 0 %); security: nothing applies.
SERVICE_NO_NS = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - {port: 80}\n"
HELM = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n"


@pytest.fixture
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    # evaluate resolves "metrics/x" against the current folder; elsewhere it would try the Hub (offline: fails)
    monkeypatch.chdir(REPO)
    return REPO


def _load(name: str) -> evaluate.EvaluationModule:
    return evaluate.load(f"metrics/{name}")


@pytest.mark.parametrize("name", METRICS)
def test_loads_offline_with_a_full_card(at_repo_root: Path, name: str) -> None:
    metric = _load(name)
    module = sys.modules[type(metric).__module__]
    assert module._CITATION.strip().startswith("@")
    assert metric.description and metric.citation and metric.inputs_description
    card = (REPO / "metrics" / name / "README.md").read_text()
    for section in (
        "## Metric Description",
        "## How to Use",
        "### Inputs",
        "### Output Values",
        "### Examples",
        "## Limitations and Bias",
        "## Citation",
        "## Further References",
    ):
        assert section in card, f"{name}/README.md lacks {section}"


@pytest.mark.parametrize("name", METRICS)
def test_docstring_examples_hold(at_repo_root: Path, name: str) -> None:
    metric = _load(name)
    module = sys.modules[type(metric).__module__]
    test = doctest.DocTestParser().get_doctest(module._KWARGS_DESCRIPTION, {}, f"{name}._KWARGS_DESCRIPTION", None, 0)
    assert test.examples, "the metric's _KWARGS_DESCRIPTION has no example"
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0


def test_absolute_path_loads_from_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    metric = evaluate.load(str(REPO / "metrics" / "k8s_security"))
    assert metric.compute(predictions=[BARE_POD])["security"] == pytest.approx(21 / 29)


def test_best_practices_values(at_repo_root: Path) -> None:
    results = _load("k8s_best_practices").compute(
        predictions=[GOOD_DEPLOYMENT, BARE_POD, SERVICE_NO_NS, HELM], return_per_example=True
    )
    assert results["bp_per_example"] == [100.0, 12.5, 0.0, 0.0]  # Helm template: invalid -> 0, not 100
    assert results["bp"] == pytest.approx((100 + 12.5) / 4)
    assert results["yaml_valid"] == 0.75
    assert results["failed_checks_per_example"][0] == []
    assert results["failed_checks_per_example"][2] == ["bp.explicit_namespace"]
    assert "bp.explicit_namespace" not in results["failed_checks_per_example"][1]
    # the plain call returns only the corpus means
    assert set(_load("k8s_best_practices").compute(predictions=[BARE_POD])) == {"bp", "bp_na", "yaml_valid"}


def test_security_values(at_repo_root: Path) -> None:
    results = _load("k8s_security").compute(
        predictions=[GOOD_DEPLOYMENT, SERVICE_NO_NS, HELM, BARE_POD], return_per_example=True
    )
    # nothing applicable to a Service: n/a (NaN), left out of the mean and counted apart -- never 1
    assert results["security_per_example"][0] == 1.0 and math.isnan(results["security_per_example"][1])
    assert results["security_per_example"][2] == 0.0 and results["security_na"] == 1
    # bare Pod: passes the host/privilege/capability/secret checks (weights 3*6 + 2 + 1 = 21) out of 29
    assert results["security_per_example"][3] == pytest.approx(21 / 29)
    assert results["failed_checks_per_example"][3] == sorted(
        [
            "sec.run_as_non_root",
            "sec.no_privilege_escalation",
            "sec.read_only_root_fs",
            "sec.drop_all_capabilities",
            "sec.seccomp_runtime_default",
            "sec.no_automount_sa_token",
        ]
    )
    assert results["security"] == pytest.approx((1 + 0 + 21 / 29) / 3)


def test_validity_values(at_repo_root: Path) -> None:
    unknown_field = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndatta: {a: b}\n"
    custom = (
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: s}\nspec: {scaleTargetRef: {name: w}}\n"
    )
    results = _load("k8s_validity").compute(
        predictions=[GOOD_DEPLOYMENT, unknown_field, custom, HELM], return_per_example=True
    )
    assert results["yaml_valid_per_example"] == [1, 1, 1, 0]
    assert results["schema_valid_per_example"] == [1, 0, 1, 0]  # custom resource: no error found ...
    assert results["verified"] == 0.25  # ... but not verified (no schema known): only the Deployment is
    assert results["unchecked_kinds_per_example"][2] == ["keda.sh/v1alpha1/ScaledObject"]
    assert "datta" in results["errors_per_example"][1][0]
    assert (results["yaml_valid"], results["schema_valid"]) == (0.75, 0.5)


def test_codebleu_metric_matches_library(at_repo_root: Path) -> None:
    predictions = [BARE_POD, SERVICE_NO_NS, GOOD_DEPLOYMENT]
    references = [GOOD_DEPLOYMENT, SERVICE_NO_NS, BARE_POD]
    results = _load("yaml_codebleu").compute(predictions=predictions, references=references, return_per_example=True)
    expected = [k8s_scoring.codebleu_yaml(p, r) for p, r in zip(predictions, references)]
    for part in ("codebleu", "ngram", "weighted_ngram", "syntax", "semantic"):
        assert results[f"{part}_per_example"] == [e[part] for e in expected]
        assert results[part] == pytest.approx(sum(e[part] for e in expected) / 3)
    assert results["codebleu_per_example"][1] == 1.0
    weighted = _load("yaml_codebleu").compute(predictions=predictions, references=references, weights=(0, 0, 1, 0))
    assert weighted["codebleu"] == pytest.approx(weighted["syntax"])


def test_reward_metric_matches_reward_fn(at_repo_root: Path) -> None:
    predictions = [GOOD_DEPLOYMENT, BARE_POD, HELM]
    references = [GOOD_DEPLOYMENT, GOOD_DEPLOYMENT, GOOD_DEPLOYMENT]
    results = _load("k8s_reward").compute(predictions=predictions, references=references, return_per_example=True)
    assert results["reward_per_example"] == k8s_scoring.reward_fn(predictions, references)
    # identical to the reference, all checks pass, complexity 1: reward 1; the Helm template is invalid: 0
    assert results["reward_per_example"][0] == pytest.approx(1.0)
    assert results["reward_per_example"][2] == 0.0
    only_bp = _load("k8s_reward").compute(
        predictions=[BARE_POD], references=[GOOD_DEPLOYMENT], weights={"codebleu": 0, "security": 0, "complexity": 0}
    )
    assert only_bp["reward"] == pytest.approx(0.125)
