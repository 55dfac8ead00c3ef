"""Pattern extraction and leak-free retrieval."""

import json

import pytest

from k8s_data.build import build_examples
from k8s_data.formatting import PATTERN_SEPARATOR, format_single_encoder_input
from k8s_data.patterns import extract_pattern, pattern_kinds
from k8s_data.retrieval import BankEntry, PatternBank, tokenize

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
          protocol: TCP
      - name: sidecar
        image: busybox
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: LoadBalancer
  ports:
  - port: 80
    targetPort: http
"""


def test_pattern_keeps_structure_and_types_values():
    assert extract_pattern(DEPLOYMENT) == """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: <str>
  labels: <map>
spec:
  replicas: <int>
  template:
    spec:
      containers:
      - name: <str>
        image: <image>
        ports:
        - containerPort: <port>
          protocol: TCP
---
apiVersion: v1
kind: Service
metadata:
  name: <str>
spec:
  type: LoadBalancer
  ports:
  - port: <port>
    targetPort: <port>"""
    assert pattern_kinds(extract_pattern(DEPLOYMENT)) == ["Deployment", "Service"]


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("kind: CronJob\nspec:\n  schedule: '*/5 * * * *'\n", "kind: CronJob\nspec:\n  schedule: <cron>"),
        ("kind: Role\nrules:\n- apiGroups: ['']\n  verbs: [get, list]\n",  # RBAC verbs are structure: kept
         'kind: Role\nrules:\n- apiGroups:\n  - ""\n  verbs:\n  - get\n  - list'),
        ("kind: ConfigMap\ndata:\n  a: '1'\n  b: '2'\n", "kind: ConfigMap\ndata: <map>"),  # user keys collapse
        ("a: [x, y, z]\nb: true\nc: 1.5\n", "a:\n- <str>\nb: <bool>\nc: <num>"),  # one item stands for a list
        ("key: [unclosed", ""),  # not YAML: empty pattern
    ],
)
def test_pattern_cases(yaml_text, expected):
    assert extract_pattern(yaml_text) == expected


@pytest.fixture(scope="module")
def rows():
    return build_examples(pattern_mode="none")


def test_patterns_of_real_corpus_are_compact(rows):
    rows = [dict(r, k8s_pattern=extract_pattern(r["yaml"])) for r in rows[::8]]
    assert all(row["k8s_pattern"] for row in rows)
    assert sum(len(r["k8s_pattern"]) for r in rows) < 0.8 * sum(len(r["yaml"]) for r in rows)
    assert all(set(pattern_kinds(r["k8s_pattern"])) == set(r["kinds"]) for r in rows)


def test_single_encoder_input():
    expected = f"a Service{PATTERN_SEPARATOR}kind: Service"
    assert format_single_encoder_input(" a Service ", "kind: Service\n") == expected
    assert format_single_encoder_input("a Service", "") == "a Service"


def test_tokenize_splits_camel_case():
    # "set" is a stopword ("set up"); "create", "a", "named" too
    assert tokenize("Create a StatefulSet named db") == ["statefulset", "stateful", "db"]


def make_bank():
    return PatternBank([
        BankEntry("a1", "file-a", "nginx deployment with three replicas", "kind: Deployment", ("Deployment",)),
        BankEntry("a2", "file-a", "nginx deployment and service", "kind: Deployment\n---\nkind: Service"),
        BankEntry("b1", "file-b", "redis deployment", "kind: Deployment # redis", ("Deployment",)),
        BankEntry("c1", "file-c", "a cron job that runs backups", "kind: CronJob", ("CronJob",)),
    ])


def test_retrieval_excludes_self_and_same_file():
    bank = make_bank()
    assert bank.retrieve_entry("nginx deployment with three replicas").entry.id == "a1"
    # excluding a1 also excludes a2 (same source file): the next best is another file's deployment
    assert bank.retrieve_entry("nginx deployment with three replicas", exclude_id="a1").entry.id == "b1"
    assert bank.retrieve("backup cron job") == "kind: CronJob"
    assert bank.retrieve("zzz unknown words") == ""


def test_bank_save_load_roundtrip(tmp_path):
    bank = make_bank()
    bank.save(tmp_path / "bank.json")
    loaded = PatternBank.load(tmp_path / "bank.json")
    assert json.loads((tmp_path / "bank.json").read_text())["entries"][0]["id"] == "a1"
    for query in ("nginx deployment", "cron backups", "redis"):
        assert loaded.retrieve_entry(query) == bank.retrieve_entry(query)


def test_retrieval_on_real_train_never_returns_own_example_or_file(rows):
    train = [r for r in rows if r["split"] == "train"]
    bank = PatternBank.from_records(train)  # skeletons are made on use: building the index is all this needs
    file_of = {r["id"]: r["source_file"] for r in train}
    for row in train[::7]:
        hit = bank.retrieve_entry(row["intent"], exclude_id=row["id"])
        assert hit.entry is not None
        assert hit.entry.id != row["id"] and hit.entry.group != file_of[row["id"]]
    # without the exclusion the example finds itself nearly always: the exclusion is what prevents the leak
    found_self = sum(bank.retrieve_entry(r["intent"]).entry.id == r["id"] for r in train[::7])
    assert found_self > 0.5 * len(train[::7])


def test_bank_holds_only_train(rows):
    from k8s_data.build import attach_patterns

    copied = [dict(r) for r in rows[::6]]  # a sixth of the corpus keeps the test fast (one pattern per row)
    bank = attach_patterns(copied, "retrieved")
    train_ids = {r["id"] for r in copied if r["split"] == "train"}
    assert {e.id for e in bank.entries} == train_ids
    validation = [r for r in copied if r["split"] == "validation"]
    match = sum(set(pattern_kinds(r["k8s_pattern"])) == set(r["kinds"]) for r in validation) / len(validation)
    assert match > 0.6  # measured 76% (python -m k8s_data.stats); far above chance


def test_default_pattern_bank_is_train_only_and_cached(rows):
    from k8s_data import default_pattern_bank, retrieve_pattern

    bank = default_pattern_bank()
    assert bank is default_pattern_bank()
    assert {e.id for e in bank.entries} == {r["id"] for r in rows if r["split"] == "train"}
    assert "kind: CronJob" in retrieve_pattern("a CronJob that runs a backup every night on a schedule")
