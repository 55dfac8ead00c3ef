"""dual_codet5.app_logic: what the demo app shows, tested without Gradio or a browser."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from pathlib import Path

import pytest

import dual_codet5.generate as generate_module
from dual_codet5 import app_logic
from dual_codet5.app_logic import (
    DEFAULT_MODEL_DIRS,
    LINT_COLUMNS,
    MODEL_ENV,
    default_model_dir,
    generate_for_app,
    lint_rows,
    lint_yaml,
    model_status,
    repair_diff,
    repair_text,
)
from dual_codet5.generate import GenerationResult, lint_report

# the module (k8s_scoring re-exports its `repair` function under the same name)
repair_module = importlib.import_module("k8s_scoring.repair")

BARE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports: [{containerPort: 80}]
"""
SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  ports: [{port: 80}]\n"
TYPO = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: app}\ndatta: {a: b}\n"
BROKEN = "apiVersion: v1\nkind: Pod\nmetadata: {name: web\n"


# ------------------------------------------------------------------------------------------------------- model
def _saved(folder):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")


@pytest.mark.parametrize(
    ("saved", "env", "expected"),
    [
        # the main job's model (--preset cpu) comes first
        (DEFAULT_MODEL_DIRS, {}, DEFAULT_MODEL_DIRS[0]),
        # only the cpu-demo smoke run exists
        (DEFAULT_MODEL_DIRS[1:], {}, DEFAULT_MODEL_DIRS[1]),
        # nothing trained yet
        ((), {}, None),
        # the environment variable wins, even over an existing folder
        (DEFAULT_MODEL_DIRS, {MODEL_ENV: "/models/mine"}, "/models/mine"),
        # an empty variable counts as unset
        ((), {MODEL_ENV: ""}, None),
    ],
)
def test_default_model_dir(tmp_path, saved, env, expected):
    for folder in saved:
        _saved(tmp_path / folder)
    found = default_model_dir(tmp_path, env=env)
    expected_path = None if expected is None else (expected if expected.startswith("/") else str(tmp_path / expected))
    assert found == expected_path


def test_default_model_dir_ignores_a_folder_without_config(tmp_path):
    # a run that died before its final save leaves rl_dual/final without config.json: not a model
    (tmp_path / DEFAULT_MODEL_DIRS[0]).mkdir(parents=True)
    assert default_model_dir(tmp_path, env={}) is None


@pytest.mark.parametrize(
    ("kind", "starts"),
    [
        ("none", "No model found"),  # says where it looked and how to get one
        ("empty_folder", "`"),  # a folder that is not a model: named, and why
        ("model", "Model: "),  # a saved model
        ("hub_id", "Model: "),  # not a local path: left to the loader (offline: the local cache)
    ],
)
def test_model_status(tmp_path, kind, starts):
    paths = {"none": None, "empty_folder": str(tmp_path), "model": str(tmp_path / "m"), "hub_id": "user/model"}
    _saved(tmp_path / "m")
    message = model_status(paths[kind])
    assert message.startswith(starts)
    if kind == "none":
        assert "run_pipeline.py" in message and "without a model" in message
    if kind == "empty_folder":
        assert "no config.json" in message


# -------------------------------------------------------------------------------------------------------- lint
def test_lint_rows_failures_first_with_fixes():
    rows = lint_rows(BARE)
    assert all(len(row) == len(LINT_COLUMNS) for row in rows)
    results = [row[2] for row in rows]
    # every failure before every pass; n/a checks are not listed
    assert results == sorted(results, key=lambda r: r != "fail") and set(results) == {"fail", "pass"}
    by_check = {row[1].split(":")[0]: row for row in rows}
    # hand-checked: no liveness probe on container "web"; the fix names the field and says where
    assert by_check["bp.liveness_probe"][0] == "Deployment/web"
    assert by_check["bp.liveness_probe"][2] == "fail"
    fix = by_check["bp.liveness_probe"][3]
    assert "livenessProbe" in fix and 'container "web"' in fix
    # the image has a pinned tag and replicas is 3: passes, with nothing to fix
    assert by_check["bp.image_tag_pinned"][2:] == ["pass", ""]
    assert by_check["bp.min_replicas"][2:] == ["pass", ""]


@pytest.mark.parametrize(
    ("text", "first_row_result", "error_part"),
    [
        (BROKEN, "invalid", "YAML parse error"),  # not YAML: one row with the parser's message
        (TYPO, "invalid", "datta"),  # valid YAML, schema error named; its checks still listed after it
        (SERVICE, "pass", None),  # a Service: only the checks that apply (most are n/a)
    ],
)
def test_lint_rows_validity(text, first_row_result, error_part):
    rows = lint_rows(text)
    assert rows[0][2] == first_row_result
    if error_part:
        assert rows[0][:3] == ["(manifest)", "validity", "invalid"] and error_part in rows[0][3]
    else:
        assert len(rows) < 25  # n/a checks left out


def test_lint_yaml_empty_and_summary():
    assert lint_yaml("  \n") == ([], "Paste a Kubernetes manifest (one or more YAML documents) to lint it.")
    rows, summary = lint_yaml(BROKEN)
    assert summary.startswith("valid YAML: NO | schema: NO | BP 0.0%") and rows[0][2] == "invalid"
    # the module docstring's example, checked: a namespaced ConfigMap has no failing check
    rows, summary = lint_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\ndata: {a: b}\n")
    # no security check applies to a ConfigMap: n/a, not a free 1.00
    assert summary == "valid YAML: yes | schema: yes | BP 100.0% | security n/a | quality 100.0"


# ------------------------------------------------------------------------------------------------------ repair
def test_repair_text_levels():
    # none: untouched
    assert repair_text(BARE, "none") == (BARE, [], [])
    fixed, changes, _ = repair_text(BARE, "safe")
    assert changes and fixed != BARE
    with pytest.raises(ValueError, match="repair level"):
        repair_text(BARE, "aggressive")


def test_repair_text_uses_levels_when_the_judge_has_them(monkeypatch):
    seen = []

    @dataclasses.dataclass
    class LeveledConfig:  # what the judge's RepairConfig(level=...) looks like
        level: str = "safe"

    def fake_repair(text, config):
        seen.append(config.level)
        return text + "# repaired\n", ["change"]

    monkeypatch.setattr(repair_module, "RepairConfig", LeveledConfig)
    monkeypatch.setattr(repair_module, "repair", fake_repair)
    assert repair_text(BARE, "strict") == (BARE + "# repaired\n", ["change"], [])
    assert seen == ["strict"]


def test_repair_text_without_levels_says_so(monkeypatch):
    @dataclasses.dataclass
    class OldConfig:  # a RepairConfig without `level`
        cpu_request: str = "100m"

    monkeypatch.setattr(repair_module, "RepairConfig", OldConfig)
    monkeypatch.setattr(repair_module, "repair", lambda text, config: (text, []))
    _, _, notes = repair_text(BARE, "strict")
    assert notes == ["This version of k8s_scoring has no repair levels: 'strict' used the default repair rules."]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("a: 1\n", "a: 1\n", ""),  # nothing changed: no diff
        ("a: 1\n", "a: 1\nb: 2\n", "--- model output\n+++ repaired\n@@ -1 +1,2 @@\n a: 1\n+b: 2\n"),  # one line added
        ("a: 1", "a: 2", "--- model output\n+++ repaired\n@@ -1 +1 @@\n-a: 1\n+a: 2\n"),  # no final newline
    ],
)
def test_repair_diff(before, after, expected):
    assert repair_diff(before, after) == expected


# ---------------------------------------------------------------------------------------------------- generate
@pytest.mark.parametrize(
    ("intent", "model", "repair_level", "fallback", "message"),
    [
        ("", "m", "safe", "none", "Type an intent"),  # nothing to do
        ("deploy x", None, "safe", "none", "No model found"),  # no model: the status message, no crash
        ("deploy x", "m", "max", "none", "Repair level must be one of none, safe, strict"),  # bad option
        ("deploy x", "m", "safe", "oracle", "Fallback must be one of none, retrieval"),  # bad option
    ],
)
def test_generate_for_app_refuses_bad_input(intent, model, repair_level, fallback, message):
    result = generate_for_app(intent, model, 1, repair_level, fallback)
    assert result.summary.startswith(message) and result.yaml == "" and result.rows == []


def _fake_generate_manifest(yaml_text, with_fallback):
    def fake(intent, model, *, n=1, max_new_tokens=512, **kwargs):
        result = GenerationResult(intent=intent, pattern="", yaml=yaml_text, lint=lint_report(yaml_text))
        if with_fallback and kwargs.get("fallback") == "retrieval":
            result.fallback = "retrieved manifest"
        fake.calls.append({"n": n, "max_new_tokens": max_new_tokens, **kwargs})
        return result

    fake.calls = []
    if not with_fallback:  # the signature app_logic inspects
        fake.__signature__ = inspect.signature(lambda intent, model, *, n=1, max_new_tokens=512: None)
    else:
        fake.__signature__ = inspect.signature(lambda intent, model, *, n=1, max_new_tokens=512, fallback="none": None)
    return fake


@pytest.fixture()
def saved_model(tmp_path, monkeypatch):
    _saved(tmp_path / "model")
    monkeypatch.setattr(app_logic, "_load", lambda model: f"loaded {model}")
    return str(tmp_path / "model")


def test_generate_for_app_repairs_and_diffs(saved_model, monkeypatch):
    fake = _fake_generate_manifest(BARE, with_fallback=False)
    monkeypatch.setattr(generate_module, "generate_manifest", fake)
    result = generate_for_app("deploy nginx", saved_model, n=20, repair_level="safe", fallback="none")
    # n is capped at MAX_N; max_new_tokens passed through
    assert fake.calls == [{"n": app_logic.MAX_N, "max_new_tokens": 256}]
    # safe repairs add requests and a soft spread, never hardening that can stop a root image
    assert result.yaml != BARE and "requests:" in result.yaml and "allowPrivilegeEscalation" not in result.yaml
    strict = generate_for_app("deploy nginx", saved_model, n=1, repair_level="strict", fallback="none")
    assert "allowPrivilegeEscalation: false" in strict.yaml
    assert result.diff.startswith("--- model output\n+++ repaired\n") and "+" in result.diff
    assert result.rows and result.summary.startswith("valid YAML: yes | schema: yes")
    assert any(note.startswith("Repair (safe):") for note in result.notes)
    # without repair the model's output is shown as it is, with no diff
    plain = generate_for_app("deploy nginx", saved_model, n=1, repair_level="none", fallback="none")
    assert plain.yaml == BARE and plain.diff == ""


def test_generate_for_app_fallback(saved_model, monkeypatch):
    # a generate_manifest without `fallback`: the option is reported as unavailable, not passed
    old = _fake_generate_manifest(BROKEN, with_fallback=False)
    monkeypatch.setattr(generate_module, "generate_manifest", old)
    result = generate_for_app("deploy nginx", saved_model, repair_level="none", fallback="retrieval")
    assert "fallback" not in old.calls[0]
    assert "no fallback" in result.notes[0] and result.rows[0][2] == "invalid"
    # one with `fallback`: passed through, and its use is said
    new = _fake_generate_manifest(SERVICE, with_fallback=True)
    monkeypatch.setattr(generate_module, "generate_manifest", new)
    result = generate_for_app("deploy nginx", saved_model, repair_level="none", fallback="retrieval")
    assert new.calls[0]["fallback"] == "retrieval"
    assert any("retrieval fallback" in note for note in result.notes)


def test_generate_for_app_reports_a_failing_model(saved_model, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(generate_module, "generate_manifest", boom)
    result = generate_for_app("deploy nginx", saved_model)
    assert result.summary == "Generation failed: RuntimeError: out of memory" and result.yaml == ""


def test_generate_for_app_with_a_tiny_random_model(tmp_path):
    # end to end through the real loader and generate: the YAML is junk, the judge's verdict comes with it
    from app_fixtures import save_tiny_model

    folder = save_tiny_model(tmp_path / "tiny")
    result = generate_for_app("deploy nginx", str(folder), n=2, repair_level="safe", max_new_tokens=16)
    assert isinstance(result.yaml, str) and result.rows and result.summary.startswith("valid YAML: ")
    assert "Best of 2: picked candidate #" in " ".join(result.notes)


# ----------------------------------------------------------------------------------------------------- the Space
def test_space_requirements_cover_the_package_dependencies():
    # the Space runs app.py from source, so its requirements.txt must hold every runtime dependency (and Gradio)
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    listed = (root / "docs" / "space" / "requirements.txt").read_text().splitlines()
    names = {re.split(r"[<>=!~\[ ]", line.strip(), maxsplit=1)[0].lower() for line in listed if line[:1].isalpha()}
    wanted = {re.split(r"[<>=!~\[ ]", dep, maxsplit=1)[0].lower() for dep in project["dependencies"]}
    assert wanted - names == set()
    assert "gradio" in names
    front = (root / "docs" / "space" / "README.md").read_text().split("---")[1]
    assert "sdk: gradio" in front and "app_file: app.py" in front
