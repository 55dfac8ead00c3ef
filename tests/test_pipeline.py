"""dual_codet5.pipeline (behind run_pipeline.py and `dual-codet5 pipeline`): the commands it chains, dry run."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from dual_codet5 import pipeline

ROOT = Path(__file__).resolve().parents[1]


def _commands(
    tmp_path: Path, capsys: pytest.CaptureFixture, *extra: str, preset: str = "cpu-demo"
) -> list[list[str]]:
    pipeline.main(["--preset", preset, "--output_dir", str(tmp_path), "--dry_run", *extra])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("$ ")]
    return [shlex.split(line[2:]) for line in lines]


def test_the_evaluation_always_includes_the_retrieval_system(tmp_path, capsys):
    (*_, evaluate) = _commands(tmp_path, capsys)
    models = evaluate[evaluate.index("--models") + 1 : evaluate.index("--output_dir")]
    # the T5 baseline stays first (every comparison is against it); retrieval is a row like any model
    assert models == [
        f"baseline={tmp_path}/sft_baseline/final",
        f"sft_dual={tmp_path}/sft_dual/final",
        f"rl_dual={tmp_path}/rl_dual/final",
        "retrieval=bm25",
    ]


def test_stage_scripts_and_presets_are_found_from_the_package():
    # the pipeline runs the root scripts by file name from the checkout the package lives in (it imports none)
    assert pipeline.REPO == ROOT
    for script in ("train_sft.py", "train_rl.py", "evaluate_models.py"):
        assert (pipeline.REPO / script).is_file(), script
    for preset in pipeline.PRESETS.values():
        assert (pipeline.REPO / preset).is_file(), preset


def test_run_pipeline_is_a_thin_entry_point():
    import run_pipeline

    assert run_pipeline.main is pipeline.main
    assert len((ROOT / "run_pipeline.py").read_text().splitlines()) < 20


def test_cpu_preset_tests_every_row_against_retrieval_with_a_copying_single_encoder_baseline(tmp_path, capsys):
    commands = _commands(tmp_path, capsys, preset="cpu")
    baseline = next(c for c in commands if str(tmp_path / "sft_baseline") in c)
    assert baseline[baseline.index("--model_type") + 1] == "single"
    evaluate = next(c for c in commands if "evaluate_models.py" in c)
    models = evaluate[evaluate.index("--models") + 1 : evaluate.index("--output_dir")]
    assert models[:2] == ["retrieval=bm25", "retrieval_adapt=bm25+adapt"]  # the bar first, then the adapted one
    assert models[2] == f"single={tmp_path}/sft_baseline/final"
    curve = next(c for c in commands if "dual_codet5.learning_curve" in c)
    assert f"sft_dual={tmp_path}/sft_dual" in curve
    # model-against-model tests on the evaluation's per-example scores, after the evaluation
    pairwise = next(c for c in commands if "dual_codet5.pairwise" in c)
    assert commands.index(pairwise) == commands.index(evaluate) + 1
    assert pairwise[pairwise.index("-m") + 2] == f"{tmp_path}/eval/per_example.jsonl"
    pairs = pairwise[pairwise.index("--pairs") + 1 : pairwise.index("--output")]
    assert pairs == ["retrieval_adapt:rl_dual", "retrieval_adapt:rl_dual+fallback", "single:sft_dual",
                     "sft_dual:rl_dual"]  # fmt: skip


def test_seeds_train_and_evaluate_each_run_apart_then_aggregate(tmp_path, capsys):
    commands = _commands(tmp_path, capsys, "--seeds", "1", "2", "3", preset="cpu")
    rl = [c for c in commands if "train_rl.py" in c]
    assert [c[c.index("--seed") + 1] for c in rl] == ["1", "2", "3"]
    assert [c[c.index("--output_dir") + 1] for c in rl] == [f"{tmp_path}/seed{s}/rl_dual" for s in (1, 2, 3)]
    (aggregate,) = [c for c in commands if "--runs" in c and "evaluate_models.py" in c]
    runs = aggregate[aggregate.index("--runs") + 1 : aggregate.index("--output_dir")]
    assert runs == [f"{tmp_path}/seed{s}/eval/phase2_final_results.json" for s in (1, 2, 3)]
    # one tokenizer for all seeds
    sft = [c for c in commands if "train_sft.py" in c]
    assert {c[c.index("--tokenizer_name_or_path") + 1] for c in sft} == {f"{tmp_path}/tokenizer"}


def test_pretrain_runs_span_corruption_first_and_sft_starts_from_it(tmp_path, capsys):
    import yaml

    config = yaml.safe_load((ROOT / "configs/pipeline_cpu.yaml").read_text())
    assert not config.get("pretrain")  # off in the preset (docs/training.md says why)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({**config, "pretrain": True, "pretrain_args": ["--max_steps", "200"]}))
    pipeline.main(["--config", str(path), "--output_dir", str(tmp_path), "--dry_run"])
    lines = [shlex.split(x[2:]) for x in capsys.readouterr().out.splitlines() if x.startswith("$ ")]
    out = [c[c.index("--output_dir") + 1] for c in lines if "train_sft.py" in c]
    assert out == [f"{tmp_path}/{s}" for s in ("pretrain_baseline", "pretrain_dual", "sft_baseline", "sft_dual")]
    for model in ("baseline", "dual"):
        pre = next(c for c in lines if f"{tmp_path}/pretrain_{model}" in c)
        assert pre[-4:] == ["--objective", "span_corruption", "--max_steps", "200"]
        sft = next(c for c in lines if f"{tmp_path}/sft_{model}" in c)
        assert sft[sft.index("--init_from") + 1] == f"{tmp_path}/pretrain_{model}/final"
        assert sft[sft.index("--model_type") + 1] == pre[pre.index("--model_type") + 1]


def test_unknown_baseline_type_is_refused(tmp_path):
    config = tmp_path / "p.yaml"
    config.write_text("tokenizer_vocab_size: 100\nsft_config: a\nrl_config: b\nbaseline_type: lstm\n")
    with pytest.raises(ValueError, match="baseline_type"):
        pipeline.main(["--config", str(config), "--output_dir", str(tmp_path / "o"), "--dry_run"])


def test_gpu_preset_is_the_cpu_preset_scaled_up(tmp_path, capsys):
    import yaml

    commands = _commands(tmp_path, capsys, preset="gpu")
    dual = next(c for c in commands if str(tmp_path / "sft_dual") in c and "train_sft.py" in c)
    # bf16 through the accelerate launcher on one A100 / H100 / H200
    assert dual[dual.index("--config_file") + 1] == "configs/accelerate/a100_bf16.yaml"
    sft_gpu = yaml.safe_load((ROOT / dual[dual.index("train_sft.py") + 1]).read_text())
    sft_cpu = yaml.safe_load((ROOT / "configs/sft_cpu.yaml").read_text())
    # the same modelling and data choices as the cpu preset: copying, one retrieved exemplar, long targets left out
    for key in ("copy_mechanism", "pattern_format", "exemplar_k", "train_sample_top", "long_targets"):
        assert sft_gpu[key] == sft_cpu[key], key
    assert sft_gpu["copy_mechanism"] is True and sft_gpu["pattern_format"] == "exemplar"
    # ... scaled up: the 512-wide `small` preset, longer patterns and targets, larger batches
    assert sft_gpu["init_from"] == "small"
    assert [sft_gpu[f"max_{k}_length"] for k in ("source", "pattern", "target")] == [128, 512, 512]
    assert sft_gpu["per_device_train_batch_size"] > sft_cpu["per_device_train_batch_size"]
    # the plain T5 reference row is trained, and the evaluation reads the FULL test split, retrieval first
    assert any(str(tmp_path / "sft_t5") in c for c in commands)
    evaluate = next(c for c in commands if "evaluate_models.py" in c)
    assert "--max_examples" not in evaluate
    models = evaluate[evaluate.index("--models") + 1 : evaluate.index("--output_dir")]
    assert models[0] == "retrieval=bm25" and f"t5={tmp_path}/sft_t5/final" in models
    assert any("dual_codet5.learning_curve" in c for c in commands)


def test_gpu_check_script_parses_and_stops_without_cuda(tmp_path):
    import subprocess

    import torch

    script = ROOT / "bench" / "gpu_check.sh"
    assert "set -euo pipefail" in script.read_text()
    subprocess.run(["bash", "-n", str(script)], check=True)
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is visible: the no-CUDA exit cannot be seen here")
    done = subprocess.run(["bash", str(script)], cwd=ROOT, env={**os.environ, "OUT": str(tmp_path)},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert "no CUDA device visible" in done.stderr
