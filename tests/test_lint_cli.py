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


def test_fix_edits_in_place_and_names_what_is_left(files, capsys) -> None:
    # like `ruff --fix`: the file is rewritten, the changes and the checks still failing go to stderr; the status is
    # that of the repaired file (1: the image tag and the namespace are the user's to fix)
    assert main(["--fix", files["failing.yaml"]]) == 1
    captured = capsys.readouterr()
    fixed = open(files["failing.yaml"]).read()
    assert "requests:" in fixed and "cpu: 100m" in fixed and "image: nginx:latest" in fixed
    assert captured.out == ""  # nothing on stdout for files
    assert "fixed bp.cpu_requests Pod/one" in captured.err
    assert "still failing:" in captured.err and "bp.image_tag_pinned (1)" in captured.err
    assert "(--fix-level strict repairs more)" in captured.err


def test_fix_two_files_keeps_both(files, capsys) -> None:
    # the old --fix wrote every file to one stdout stream without '---' (duplicate keys then lost the first file)
    before_clean = open(files["clean.yaml"]).read()
    main(["--fix", files["failing.yaml"], files["clean.yaml"]])
    assert open(files["clean.yaml"]).read() == before_clean  # nothing to fix: untouched
    assert "kind: Pod" in open(files["failing.yaml"]).read()


def test_diff_writes_nothing(files, capsys) -> None:
    before = open(files["failing.yaml"]).read()
    assert main(["--diff", files["failing.yaml"]]) == 1
    out = capsys.readouterr().out
    assert open(files["failing.yaml"]).read() == before
    assert out.startswith("--- a/") and "+        cpu: 100m" in out


def test_fix_stdin_to_stdout(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(FAILING.encode())))
    main(["--fix", "-"])
    captured = capsys.readouterr()
    assert captured.out.startswith("apiVersion: v1\nkind: Pod") and "cpu: 100m" in captured.out


def test_fix_invalid_input_has_lint_status(tmp_path, capsys) -> None:
    # a Helm template is not fixed and not "nothing to fix": exit 2, as plain lint
    helm = tmp_path / "helm.yaml"
    helm.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n")
    assert main(["--fix", str(helm)]) == 2
    err = capsys.readouterr().err
    assert "INVALID" in err and "Helm" in err and "nothing to fix" not in err
    assert main([str(helm)]) == 2


def test_fix_json_reports_changes_and_remaining(files, capsys) -> None:
    assert main(["--fix", "--format", "json", files["failing.yaml"]]) == 1
    payload = json.loads(capsys.readouterr().out)
    record = payload["fixes"][0]
    assert record["changed"] and record["level"] == "safe"
    assert {c["check_id"] for c in record["changes"]} == {"bp.cpu_requests", "bp.memory_requests", "bp.cpu_limits"}
    assert record["failing"]["bp.image_tag_pinned"] == 1 and payload["summary"]["changes"] == 3


def test_fix_level_strict(files, capsys) -> None:
    main(["--fix", "--fix-level", "strict", "--format", "json", files["failing.yaml"]])
    changes = {c["check_id"] for c in json.loads(capsys.readouterr().out)["fixes"][0]["changes"]}
    assert {"sec.run_as_non_root", "sec.read_only_root_fs", "bp.memory_limits"} <= changes


INVALID_PORT = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports: [{port: 70000}]
  selector: {app: web}
"""


def test_validity_errors_shown_with_path(tmp_path, capsys) -> None:
    # schema/API-server errors are shown with their path and fail the lint (exit 1), in text and in JSON
    path = tmp_path / "svc.yaml"
    path.write_text(INVALID_PORT)
    assert main([str(path), "--color", "never"]) == 1
    out = capsys.readouterr().out
    assert "INVALID] spec.ports[0].port: must be between 1 and 65535" in out
    assert main([str(path), "--format", "json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["results"][0]["validity_errors"][0]["path"] == "spec.ports[0].port"
    assert payload["summary"]["validity_errors"] == 1


def test_schema_error_and_unserved_api_shown(tmp_path, capsys) -> None:
    # `replica: 3` is an unknown field (not only "replicas is unset"); extensions/v1beta1 Ingress is not served
    path = tmp_path / "d.yaml"
    path.write_text("apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i, namespace: a}\n")
    assert main([str(path)]) == 1
    assert "not served by Kubernetes" in capsys.readouterr().out


def test_unchecked_custom_resource_is_not_an_error(tmp_path, capsys) -> None:
    path = tmp_path / "cr.yaml"
    path.write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: a}\n")
    assert main([str(path)]) == 0
    assert "unchecked (no schema known, not verified): example.com/v1/Widget" in capsys.readouterr().out


def test_list_checks(capsys) -> None:
    assert main(["--list-checks"]) == 0
    assert capsys.readouterr().out.count("\n") == len(CHECKS_BY_ID)
