"""dual_codet5.pipeline (behind run_pipeline.py and `dual-codet5 pipeline`): the commands it chains, dry run."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from dual_codet5 import pipeline

ROOT = Path(__file__).resolve().parents[1]


def _commands(tmp_path: Path, capsys: pytest.CaptureFixture, *extra: str) -> list[list[str]]:
    pipeline.main(["--preset", "cpu-demo", "--output_dir", str(tmp_path), "--dry_run", *extra])
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
