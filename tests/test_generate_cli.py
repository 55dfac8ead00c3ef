"""dual_codet5.generate (best-of-n, repair, lint report) and the `dual-codet5 generate` / `k8s-lint --fix` commands.

The CLI runs end to end on a tiny DualCodeT5 saved in the test (random weights: its output is not a manifest, so the
tests on content replace only the decoding step with fixed candidates and keep everything around it real).
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

import dual_codet5.inference as inference
from dual_codet5 import generate as generate_module
from dual_codet5.cli import main
from dual_codet5.generate import generate_manifest, lint_report, pick_best
from k8s_scoring import score

ROOT = Path(__file__).resolve().parents[1]

INVALID = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web\n"  # unclosed flow mapping
BARE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
"""
HARDENED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway,
         labelSelector: {matchLabels: {app: web}}}
      containers:
      - name: web
        image: nginx:1.25
        ports: [{containerPort: 80}]
        readinessProbe: {tcpSocket: {port: 80}}
        livenessProbe: {tcpSocket: {port: 80}}
        resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, memory: 512Mi}}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
"""


# ------------------------------------------------------------------------------------------------ pick_best
def test_pick_best_prefers_the_highest_quality():
    candidates = [INVALID, BARE, HARDENED]
    best, scores = pick_best(candidates)
    qualities = [score(c)["quality"] for c in candidates]
    assert qualities[0] == 0 and qualities[2] > qualities[1] > 0  # the premise of the test
    assert best == 2
    assert [s["index"] for s in scores] == [0, 1, 2]
    assert [s["quality"] for s in scores] == qualities
    # order does not matter, only the scores
    assert pick_best([HARDENED, INVALID, BARE])[0] == 0


def test_pick_best_ties_are_deterministic(monkeypatch):
    # identical candidates: the earlier one
    assert pick_best([BARE, BARE, BARE])[0] == 0
    fake = {
        "a": {"quality": 50.0, "schema_valid": 1.0, "bp": 40.0, "security": 0.5},
        "b": {"quality": 50.0, "schema_valid": 1.0, "bp": 60.0, "security": 0.1},  # wins on BP
        "c": {"quality": 50.0, "schema_valid": 1.0, "bp": 60.0, "security": 0.9},  # ... then on security
        "d": {"quality": 50.0, "schema_valid": 0.0, "bp": 99.0, "security": 1.0},  # schema validity comes first
        "e": {"quality": 49.0, "schema_valid": 1.0, "bp": 100.0, "security": 1.0},  # quality comes before all
    }
    monkeypatch.setattr(generate_module, "score", lambda text: dict(fake[text]))
    assert pick_best(["a", "b"])[0] == 1
    assert pick_best(["a", "b", "c"])[0] == 2
    assert pick_best(["d", "a"])[0] == 1
    assert pick_best(["e", "a"])[0] == 1
    assert pick_best(["c", "c"])[0] == 0


def test_pick_best_gives_no_credit_for_vacuous_passes():
    # A Namespace is cluster-scoped and has no containers: no check applies, so its quality is n/a (NaN, never 100).
    # Next to a candidate that writes the workload, BP and security count 0 for it (as in the RL reward).
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n"
    assert math.isnan(score(namespace)["quality"]) and score(BARE)["quality"] > 0  # the premise of the test
    assert pick_best([namespace, BARE])[0] == 1
    assert pick_best([namespace, namespace])[0] == 0  # nothing applies anywhere: plain quality, earlier index


def test_pick_best_needs_candidates():
    with pytest.raises(ValueError):
        pick_best([])


def test_lint_report_lists_failing_checks_with_fixes():
    report = lint_report(BARE)
    assert report["yaml_valid"] == 1 and report["schema_valid"] == 1
    failing = {f["check_id"]: f for f in report["failing"]}
    assert "bp.liveness_probe" in failing and "sec.run_as_non_root" in failing
    assert failing["bp.liveness_probe"]["object"] == "Deployment/web"
    assert all(f["fix"] for f in report["failing"])
    invalid = lint_report(INVALID)
    assert invalid["yaml_valid"] == 0 and invalid["quality"] == 0 and invalid["errors"]


# ---------------------------------------------------------------------------------- generate_manifest (glue)
class _FixedDecoder:
    """Stands in for `generate_yaml`: returns fixed candidates and records the decoding arguments."""

    def __init__(self, candidates: list[str]):
        self.candidates = candidates
        self.calls: list[dict] = []

    def __call__(self, loaded, intents, patterns, **kwargs):
        self.calls.append({"intents": list(intents), "patterns": list(patterns), **kwargs})
        return [list(self.candidates[: kwargs["num_return_sequences"]]) for _ in intents]


def test_generate_manifest_best_of_n(monkeypatch):
    decoder = _FixedDecoder([INVALID, BARE, HARDENED])
    monkeypatch.setattr(inference, "generate_yaml", decoder)
    result = generate_manifest("deploy nginx", model=object(), n=3, pattern="", num_beams=2)
    assert result.best_index == 2 and result.yaml == HARDENED
    assert [c["index"] for c in result.candidates] == [0, 1, 2]
    assert result.candidates[0]["quality"] == 0
    assert result.lint["quality"] == max(c["quality"] for c in result.candidates)
    # beam search returns the n best beams: num_beams is raised to n
    assert decoder.calls[0]["num_beams"] == 3 and decoder.calls[0]["num_return_sequences"] == 3
    assert decoder.calls[0]["patterns"] == [""]
    json.dumps(result.to_dict())


def test_generate_manifest_repair_then_rerank(monkeypatch):
    monkeypatch.setattr(inference, "generate_yaml", _FixedDecoder([BARE, INVALID]))
    plain = generate_manifest("deploy nginx", model=object(), n=2, pattern="p")
    repaired = generate_manifest("deploy nginx", model=object(), n=2, pattern="p", repair="strict")
    safe = generate_manifest("deploy nginx", model=object(), n=2, pattern="p", repair=True)
    assert (plain.repair_level, safe.repair_level, repaired.repair_level) == (None, "safe", "strict")
    # safe repairs never set runAsNonRoot (it stops images that run as root); strict ones do
    assert "sec.run_as_non_root" not in {c.check_id for c in safe.changes} and safe.changes
    assert plain.best_index == repaired.best_index == 0
    assert repaired.changes and repaired.raw_yaml == BARE and repaired.yaml != BARE
    assert repaired.lint["quality"] > plain.lint["quality"]
    assert repaired.candidates[0]["repairs"] == len(repaired.changes)
    assert repaired.candidates[0]["raw_quality"] == plain.candidates[0]["quality"]
    assert repaired.candidates[1]["repairs"] == 0  # invalid YAML is never touched
    assert {c["check_id"] for c in repaired.to_dict()["repairs"]} >= {"sec.run_as_non_root", "bp.liveness_probe"}


def test_sampling_arguments(monkeypatch):
    decoder = _FixedDecoder([BARE] * 4)
    monkeypatch.setattr(inference, "generate_yaml", decoder)
    generate_manifest("x", model=object(), n=4, pattern="", do_sample=True, temperature=0.7, top_p=0.9, num_beams=1)
    call = decoder.calls[0]
    assert call["do_sample"] is True and call["num_beams"] == 1 and call["num_return_sequences"] == 4
    assert call["temperature"] == 0.7 and call["top_p"] == 0.9 and "top_k" not in call


# ---------------------------------------------------------------------------------------------- the CLI
@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    from k8s_data import train_tokenizer
    from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration
    from modeling_dual_codet5.presets import preset_config

    texts = [BARE, HARDENED, "deploy nginx with 3 replicas", "a redis cache", "kind: Deployment"] * 4
    tokenizer = train_tokenizer(texts, vocab_size=300, min_frequency=1)
    torch.manual_seed(0)
    model = DualCodeT5ForConditionalGeneration(preset_config("tiny", vocab_size=len(tokenizer)))
    folder = tmp_path_factory.mktemp("tiny_dual_codet5")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture()
def pattern_file(tmp_path) -> Path:
    path = tmp_path / "pattern.yaml"
    path.write_text("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: <int>\n", encoding="utf-8")
    return path


def _run_cli(argv, monkeypatch, capsys, stdin: str | None = None):
    """`dual-codet5 generate` on what the (stubbed) model writes: `--fallback none` unless the test says otherwise
    (the default fallback would replace an invalid answer with the retrieved manifest; tests/test_fallback.py)."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    if argv and argv[0] == "generate" and "--fallback" not in argv:
        argv = [*argv, "--fallback", "none"]
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_stdin_text(tiny_model_dir, pattern_file, monkeypatch, capsys):
    argv = ["generate", "-", "--model", str(tiny_model_dir), "--pattern", str(pattern_file),
            "--max_new_tokens", "6", "--num_beams", "2", "--device", "cpu"]  # fmt: skip
    status, out, err = _run_cli(argv, monkeypatch, capsys, stdin="Deploy nginx\nwith 3 replicas\n")
    report = lint_report(out)
    # a random tiny model writes no manifest: the summary says so, and the exit status follows the validity
    assert "valid YAML: NO" in err and "BP" in err
    assert status == (0 if report["schema_valid"] else 1)
    assert "valid YAML" not in out  # stdout has only the model's text


def test_cli_file_batch_json(tiny_model_dir, pattern_file, tmp_path, monkeypatch, capsys):
    intents = tmp_path / "intents.txt"
    intents.write_text("# one intent per line\nDeploy nginx\n\nA redis cache\nA cron job\n", encoding="utf-8")
    argv = ["generate", "--file", str(intents), "--model", str(tiny_model_dir), "--pattern", str(pattern_file),
            "--max_new_tokens", "6", "--n", "2", "--format", "json", "--batch_size", "2",
            "--device", "cpu"]  # fmt: skip
    status, out, err = _run_cli(argv, monkeypatch, capsys)
    payload = json.loads(out)
    assert [p["intent"] for p in payload] == ["Deploy nginx", "A redis cache", "A cron job"]
    for item in payload:
        assert len(item["candidates"]) == 2
        assert item["yaml"] == item["candidates"][item["best_index"]]["yaml"]
        assert set(item["lint"]) >= {"yaml_valid", "schema_valid", "bp", "security", "quality", "failing"}
        assert item["pattern"] == pattern_file.read_text()
    assert "generate" in err  # the tqdm progress bar of the batch
    assert status in (0, 1)


def test_cli_output_with_decoded_manifests(tiny_model_dir, pattern_file, monkeypatch, capsys):
    """The real command with the decoding replaced: YAML on stdout, summary with fixes and best-of-n on stderr."""
    monkeypatch.setattr(inference, "generate_yaml", _FixedDecoder([INVALID, BARE]))
    argv = ["generate", "deploy nginx", "--model", str(tiny_model_dir), "--pattern", str(pattern_file),
            "--n", "2", "--device", "cpu"]  # fmt: skip
    status, out, err = _run_cli(argv, monkeypatch, capsys)
    assert status == 0 and out == BARE
    assert "valid YAML: yes | schema: yes" in err
    assert "bp.liveness_probe" in err and "best of 2: picked #1" in err
    # with --repair the manifest on stdout is the repaired one and the repairs are listed
    status, out, err = _run_cli([*argv, "--repair", "--repair_level", "strict"], monkeypatch, capsys)
    assert status == 0 and "runAsNonRoot: true" in out and "level strict" in err
    assert yaml.safe_load(out)["spec"]["replicas"] == 3
    # JSON mode: one object for one intent
    status, out, _ = _run_cli([*argv, "--format", "json"], monkeypatch, capsys)
    obj = json.loads(out)
    assert isinstance(obj, dict) and obj["best_index"] == 1 and obj["candidates"][0]["quality"] == 0


def test_cli_best_of_n_sampling_uses_independent_samples(tiny_model_dir, pattern_file, monkeypatch, capsys):
    # --do_sample without --num_beams means plain sampling (num_beams 1), so --n 3 draws 3 independent samples
    # instead of failing on the beam-search default (num_beams 4)
    decoder = _FixedDecoder([INVALID, BARE, INVALID])
    monkeypatch.setattr(inference, "generate_yaml", decoder)
    argv = ["generate", "x", "--model", str(tiny_model_dir), "--pattern", str(pattern_file), "--n", "3",
            "--do_sample", "--temperature", "0.7", "--device", "cpu"]  # fmt: skip
    status, out, err = _run_cli(argv, monkeypatch, capsys)
    assert status == 0 and out == BARE
    (call,) = decoder.calls
    assert call["num_beams"] == 1 and call["do_sample"] is True and call["num_return_sequences"] == 3


def test_cli_invalid_output_exit_status(tiny_model_dir, pattern_file, monkeypatch, capsys):
    monkeypatch.setattr(inference, "generate_yaml", _FixedDecoder([INVALID]))
    argv = ["generate", "x", "--model", str(tiny_model_dir), "--pattern", str(pattern_file), "--device", "cpu"]
    status, out, err = _run_cli(argv, monkeypatch, capsys)
    assert status == 1 and out == INVALID and "valid YAML: NO" in err and "error:" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["generate"],  # no intent
        ["generate", "x", "--n", "0", "--model", "m"],  # n must be >= 1
        ["generate", "x", "--file", "intents.txt", "--model", "m"],  # both an intent and a file
        ["generate", "x", "--model", "/nonexistent/model"],  # cannot load
        ["generate", "x", "--n", "4", "--do_sample", "--num_beams", "2", "--model", "m"],  # 2 beams cannot give 4
        ["frobnicate"],  # unknown command
        [],  # no command
    ],
)
def test_cli_usage_errors(argv, monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("DUAL_CODET5_MODEL", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "intents.txt").write_text("a\n")
    assert main(argv) == 2


def test_cli_pipeline_forwards_arguments(monkeypatch):
    import subprocess

    from dual_codet5 import pipeline

    seen = {}
    monkeypatch.setattr(pipeline, "main", lambda argv: seen.setdefault("argv", argv))
    assert main(["pipeline", "--preset", "tiny", "--output_dir", "out"]) == 0
    assert seen["argv"] == ["--preset", "tiny", "--output_dir", "out"]

    def failing(argv):
        raise subprocess.CalledProcessError(3, ["python", "train_sft.py"])

    monkeypatch.setattr(pipeline, "main", failing)
    assert main(["pipeline", "--output_dir", "out"]) == 3  # a failed stage's exit status, not a traceback


# ------------------------------------------------------------------------------------------- k8s-lint --fix
def test_k8s_lint_fix_end_to_end(tmp_path):
    # --fix edits the file in place (like ruff --fix); a second run at the same level has nothing left to do
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(BARE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "k8s_scoring", "--fix", "--fix-level", "strict", str(manifest)]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    fixed = manifest.read_text(encoding="utf-8")
    assert proc.returncode in (0, 1), proc.stderr  # 1 while some check is still failing after repair
    assert fixed != BARE and score(fixed)["quality"] > score(BARE)["quality"]
    assert "sec.run_as_non_root" in proc.stderr and "Deployment/web" in proc.stderr
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert manifest.read_text(encoding="utf-8") == fixed and "nothing to fix" in proc.stderr


def test_pattern_is_retrieved_when_not_given(monkeypatch):
    class _Bank:
        def pattern_for(self, intent: str, config) -> str:
            return f"pattern for {intent}"

    decoder = _FixedDecoder([BARE])
    monkeypatch.setattr(inference, "generate_yaml", decoder)
    # a stand-in model has no folder: the default retrieval (here replaced) is asked for
    monkeypatch.setattr(inference, "load_model_retrieval", lambda name: (_Bank(), None))
    result = generate_manifest("deploy nginx", model=object())
    assert decoder.calls[0]["patterns"] == ["pattern for deploy nginx"]
    assert result.pattern == "pattern for deploy nginx"
    # an explicit empty pattern is used as given, not retrieved
    assert generate_manifest("deploy nginx", model=object(), pattern="").pattern == ""
