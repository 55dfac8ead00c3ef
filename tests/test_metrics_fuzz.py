"""Property-based fuzzing: generated junk and near-YAML through codebleu_yaml and every `evaluate` metric.

Inputs are drawn in batches (10 batches x 100 texts = 1,000 inputs) so that each metric is computed a few times on
many predictions instead of once per input (each `compute` writes an Arrow file).
"""

from __future__ import annotations

import math
from pathlib import Path

import evaluate
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import k8s_scoring
from k8s_scoring.codebleu import MAX_CHARS, codebleu_yaml, tokenize_13a

REPO = Path(__file__).resolve().parent.parent
BATCH = 100
N_BATCHES = 10
PARTS = ("codebleu", "ngram", "weighted_ngram", "syntax", "semantic")

SEED_MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports: [{containerPort: 80}]
        resources: {requests: {cpu: 100m}, limits: {memory: 64Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80}]}
"""
FRAGMENTS = [
    "\n", "  ", "    ", "- ", ": ", ":", "---\n", "...\n", "#", "{", "}", "[", "]", ",", "&a ", "*a", "!!str ", "|\n",
    ">-\n", "'", '"', "{{ .Values.x }}", "apiVersion: v1\n", "kind: Pod\n", "kind: List\nitems:\n", "metadata:\n",
    "  name: x\n", "spec:\n", "containers:\n", "- name: c\n", "  image: nginx\n", "securityContext:\n", "\t", "\r",
    "\x00", "é", "🙂", "? ", "%YAML 1.2\n", "<<: *a\n",
]  # fmt: skip
K8S_KEYS = ["apiVersion", "kind", "metadata", "name", "namespace", "spec", "containers", "image", "replicas",
            "template", "labels", "selector", "resources", "limits", "hostNetwork", "privileged", "items"]  # fmt: skip


def _mutate(text: str, edits: list[tuple[int, int, str]]) -> str:
    for position, length, insert in edits:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at + length :]
    return text


scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=8), st.sampled_from(K8S_KEYS))
k8s_like = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.sampled_from(K8S_KEYS), children, max_size=4)
    ),
    max_leaves=12,
).map(lambda obj: yaml.safe_dump(obj, default_flow_style=None))
mutated = st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 20), st.sampled_from(FRAGMENTS)), max_size=6).map(
    lambda edits: _mutate(SEED_MANIFEST, edits)
)
fragment_soup = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
texts = st.one_of(st.text(max_size=200), fragment_soup, k8s_like, mutated)
batches = st.lists(st.tuples(texts, texts), min_size=BATCH, max_size=BATCH)


@pytest.fixture(scope="module")
def metrics() -> dict[str, evaluate.EvaluationModule]:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)  # evaluate resolves metrics/<name> against the current folder
        return {
            name: evaluate.load(f"metrics/{name}")
            for name in ("k8s_best_practices", "k8s_security", "k8s_validity", "yaml_codebleu", "k8s_reward")
        }


def _in_unit(x: float) -> bool:
    return 0.0 <= x <= 1.0 and not math.isnan(x)


@settings(
    max_examples=N_BATCHES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(batch=batches)
def test_fuzz_codebleu_and_metrics(batch: list[tuple[str, str]], metrics: dict) -> None:
    predictions = [p for p, _ in batch]
    references = [r for _, r in batch]

    library = [codebleu_yaml(p, r) for p, r in batch]
    for p, result in zip(predictions, library):
        assert set(result) == set(PARTS) and all(_in_unit(v) for v in result.values())
        if tokenize_13a(p) and len(p) <= MAX_CHARS:  # identity is 1 for every text with a token
            assert codebleu_yaml(p, p)["codebleu"] == 1.0

    bp = metrics["k8s_best_practices"].compute(predictions=predictions, return_per_example=True)
    sec = metrics["k8s_security"].compute(predictions=predictions, return_per_example=True)
    val = metrics["k8s_validity"].compute(predictions=predictions, return_per_example=True)
    cb = metrics["yaml_codebleu"].compute(predictions=predictions, references=references, return_per_example=True)
    rw = metrics["k8s_reward"].compute(predictions=predictions, references=references, return_per_example=True)

    assert cb["codebleu_per_example"] == [s["codebleu"] for s in library]
    assert all(0.0 <= v <= 100.0 for v in bp["bp_per_example"])
    assert all(_in_unit(v) for v in sec["security_per_example"] + rw["reward_per_example"])
    for i, text in enumerate(predictions):
        # invalid input never scores well: every score is 0
        if not val["yaml_valid_per_example"][i]:
            assert bp["bp_per_example"][i] == 0.0
            assert sec["security_per_example"][i] == 0.0
            assert rw["reward_per_example"][i] == 0.0
            assert val["schema_valid_per_example"][i] == 0
        assert val["schema_valid_per_example"][i] <= val["yaml_valid_per_example"][i]
        assert bp["bp_per_example"][i] == k8s_scoring.analyze(text).bp
    assert rw["reward_per_example"] == k8s_scoring.reward_fn(predictions, references)
