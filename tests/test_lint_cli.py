"""The k8s-lint CLI: text and JSON output, exit codes 0/1/2, --exit-zero, stdin '-', --fix."""

from __future__ import annotations

import io
import json
import sys

import pytest

from k8s_scoring import CHECKS_BY_ID
from k8s_scoring.cli import main

CLEAN = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
data: {a: b}
"""
FAILING = """\
apiVersion: v1
kind: Pod
metadata: {name: one}
spec:
  containers:
  - name: app
    image: nginx:latest
"""


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, text in {"clean.yaml": CLEAN, "failing.yaml": FAILING, "bad.yaml": "kind: [oops"}.items():
        path = tmp_path / name
        path.write_text(text)
        paths[name] = str(path)
    return paths


def test_clean_file_exits_zero(files, capsys) -> None:
    assert main([files["clean.yaml"]]) == 0
    out = capsys.readouterr().out
    assert "v1/ConfigMap cfg in namespace shop" in out and "BP 100.0%" in out


def test_failing_file_text_output(files, capsys) -> None:
    assert main([files["failing.yaml"], "--color", "never"]) == 1
    out = capsys.readouterr().out
    assert "v1/Pod one (document 0)" in out
    assert "bp.image_tag_pinned" in out and "uses the 'latest' tag" in out  # what is wrong
    assert CHECKS_BY_ID["bp.image_tag_pinned"].fix in out  # how to fix it
    assert "\033[" not in out  # no colour when not a TTY / --color never


def test_colour_always(files, capsys) -> None:
    main([files["failing.yaml"], "--color", "always"])
    assert "\033[" in capsys.readouterr().out


def test_exit_zero(files, capsys) -> None:
    assert main([files["failing.yaml"], "--exit-zero"]) == 0
    assert main([files["bad.yaml"], "--exit-zero"]) == 2  # --exit-zero only silences failed checks


def test_unreadable_and_invalid_exit_two(files, tmp_path, capsys) -> None:
    assert main([str(tmp_path / "missing.yaml")]) == 2
    assert main([files["bad.yaml"]]) == 2
    assert "INVALID" in capsys.readouterr().out
    assert main([files["clean.yaml"], files["bad.yaml"], files["failing.yaml"]]) == 2  # worst status wins


def test_json_format(files, capsys) -> None:
    assert main(["--format", "json", files["failing.yaml"], files["clean.yaml"]]) == 1
    payload = json.loads(capsys.readouterr().out)
    records = payload["results"]
    assert [r["kind"] for r in records] == ["Pod", "ConfigMap"]
    pod = records[0]
    assert set(pod) >= {"file", "doc_index", "kind", "name", "namespace", "checks"}
    assert pod["file"] == files["failing.yaml"] and pod["doc_index"] == 0 and pod["namespace"] is None
    assert pod["checks"]["bp.image_tag_pinned"] == "fail" and pod["checks"]["bp.min_replicas"] == "n/a"
    assert set(pod["checks"]) == set(CHECKS_BY_ID)
    summary = payload["summary"]
    assert summary["files"] == 2 and summary["objects"] == 2 and 0 <= summary["bp"] <= 100
    assert 0 <= summary["security"] <= 1 and summary["invalid_files"] == []


def test_json_reports_invalid_files(files, capsys) -> None:
    assert main(["--format", "json", files["bad.yaml"]]) == 2
    payload = json.loads(capsys.readouterr().out)
    assert payload["results"] == [] and payload["summary"]["invalid_files"][0]["file"] == files["bad.yaml"]


def test_stdin(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(FAILING.encode())))
    assert main(["-", "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["results"][0]["file"] == "-"


def test_fix_prints_repaired_yaml(files, capsys) -> None:
    pytest.importorskip("k8s_scoring.repair")
    assert main(["--fix", files["failing.yaml"]]) == 0
    captured = capsys.readouterr()
    assert "kind: Pod" in captured.out and captured.err  # fixed YAML on stdout, the changes on stderr


def test_list_checks(capsys) -> None:
    assert main(["--list-checks"]) == 0
    assert capsys.readouterr().out.count("\n") == len(CHECKS_BY_ID)
