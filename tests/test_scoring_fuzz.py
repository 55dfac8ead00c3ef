"""Property-based tests: >= 1,000 generated inputs through analyze and score never crash and stay in range.

Three generators (400 examples each, derandomized so CI is stable): raw YAML-ish text, structurally valid objects with
arbitrary nested content, and line-level mutations of a realistic manifest.
"""

from __future__ import annotations

import math

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8s_scoring import CHECKS_BY_ID, CheckResult, analyze, score

SETTINGS = settings(
    max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None
)

BASE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      securityContext: {runAsNonRoot: true}
      initContainers:
      - name: init
        image: busybox:1.36
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80, hostPort: 0}]
        resources: {requests: {cpu: 100m}}
        env: [{name: DB_PASSWORD, value: x}]
"""
BASE_LINES = BASE.splitlines()
REFERENCE = BASE


def check_invariants(text: str, reference: str | None = None) -> None:
    analysis = analyze(text)
    result = score(text, reference)
    # n/a (NaN) only where no check of the category applies; quality n/a only where neither applies
    bp_na, sec_na = analysis.valid and not analysis.has_bp, analysis.valid and not analysis.has_security
    assert math.isnan(result["bp"]) if bp_na else 0.0 <= result["bp"] <= 100.0
    assert math.isnan(result["security"]) if sec_na else 0.0 <= result["security"] <= 1.0
    assert math.isnan(result["quality"]) if bp_na and sec_na else 0.0 <= result["quality"] <= 100.0
    assert 0.0 <= result["complexity"] <= 1.0
    assert result["yaml_valid"] == float(analysis.valid) and result["schema_valid"] <= result["yaml_valid"]
    if reference is not None:
        assert 0.0 <= result["codebleu"] <= 1.0 and 0.0 <= result["reward"] <= 1.0
    if not analysis.valid:
        assert all(value == 0.0 for value in result.values()) and analysis.errors and not analysis.objects
        return
    assert analysis.bp == result["bp"] or bp_na
    assert analysis.security == result["security"] or sec_na
    for obj in analysis.objects:
        assert set(obj.checks) == set(CHECKS_BY_ID)
        assert all(isinstance(outcome, CheckResult) for outcome in obj.checks.values())
        assert set(obj.details) == set(obj.failed)


yaml_chars = st.sampled_from(list("abcdekindapiVersion:-[]{}&*!|>'\"#\n \t0123456789.,?%@`") + ["\n- ", ": ", "---\n"])


@SETTINGS
@given(st.lists(yaml_chars, max_size=200).map("".join))
def test_random_text(text: str) -> None:
    check_invariants(text)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False), st.text(max_size=20)
)
nested = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
field_names = st.sampled_from(
    ["spec", "metadata", "containers", "template", "securityContext", "replicas", "selector", "image", "items",
     "hostNetwork", "initContainers", "ephemeralContainers", "jobTemplate", "capabilities", "env", "volumes"]
)  # fmt: skip
kinds = st.sampled_from(
    ["Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "List", "Service", "HorizontalPodAutoscaler",
     "Widget", "ConfigMap", "ReplicaSet", "Namespace"]
)  # fmt: skip


@SETTINGS
@given(kinds, st.dictionaries(field_names, nested, max_size=5), st.dictionaries(field_names, nested, max_size=3))
def test_structured_objects(kind: str, top: dict, spec_extra: dict) -> None:
    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}, **top}
    spec = obj.get("spec")
    if isinstance(spec, dict):
        spec.update({"template": {"spec": spec_extra}, "jobTemplate": {"spec": {"template": {"spec": spec_extra}}}})
    text = yaml.safe_dump(obj, allow_unicode=True)
    check_invariants(text, REFERENCE)


@SETTINGS
@given(
    st.lists(
        st.tuples(st.sampled_from(["drop", "dup", "insert", "indent"]), st.integers(0, len(BASE_LINES)), yaml_chars),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_manifest(edits: list[tuple[str, int, str]]) -> None:
    lines = list(BASE_LINES)
    for op, index, token in edits:
        index %= len(lines) or 1
        if not lines:
            break
        if op == "drop":
            del lines[index]
        elif op == "dup":
            lines.insert(index, lines[index])
        elif op == "insert":
            lines[index] = lines[index] + token
        else:
            lines[index] = " " + lines[index]
    check_invariants("\n".join(lines) + "\n", REFERENCE)


def test_base_manifest_is_valid() -> None:  # the mutation test starts from a valid manifest
    assert analyze(BASE).valid and score(BASE)["schema_valid"] == 1.0
