"""dual_codet5.learning_curve: epoch checkpoints are matched to their training minutes; the files are written."""

import csv
import json

import pytest

from dual_codet5.learning_curve import _parse_runs, saved_checkpoints, write_learning_curve


def fake_run(tmp_path, epochs=(1, 2), elapsed=(30.0, 90.0), with_eval=True):
    run = tmp_path / "run"
    run.mkdir()
    lines = [{"step": 5, "train/loss": 3.0, "train/epoch": 1, "elapsed_s": 10.0}]
    for epoch, seconds in zip(epochs, elapsed):
        record = {"step": 10 * epoch, "elapsed_s": seconds}
        record.update({"eval/loss": 2.0, "epoch": epoch} if with_eval else {"train/epoch": epoch})
        lines.append(record)
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    for epoch in epochs:
        (run / f"stage1_epoch{epoch}").mkdir()
        (run / f"stage1_epoch{epoch}" / "config.json").write_text("{}")
    (run / "final").mkdir()  # not an epoch checkpoint
    return run


@pytest.mark.parametrize("with_eval", [True, False])
def test_saved_checkpoints_get_the_minutes_at_the_end_of_their_epoch(tmp_path, with_eval):
    run = fake_run(tmp_path, with_eval=with_eval)
    points = saved_checkpoints(run)
    assert [(e, m, f.name) for e, m, f in points] == [
        ("epoch 1", 0.5, "stage1_epoch1"),
        ("epoch 2", 1.5, "stage1_epoch2"),
    ]


def test_step_checkpoints_are_placed_by_their_saved_model_record(tmp_path):
    run = fake_run(tmp_path)
    with open(run / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps({"step": 15, "saved_model_step": 15, "elapsed_s": 60.0}) + "\n")
    (run / "stage1_step15").mkdir()
    (run / "stage1_step15" / "config.json").write_text("{}")
    labels = [label for label, _, _ in saved_checkpoints(run)]
    assert labels == ["epoch 1", "step 15", "epoch 2"]  # in time order


def test_saved_checkpoints_reject_runs_without_times(tmp_path):
    with pytest.raises(ValueError, match="metrics.jsonl"):
        saved_checkpoints(tmp_path)
    run = fake_run(tmp_path)
    (run / "stage1_epoch3").mkdir()
    (run / "stage1_epoch3" / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="stage1_epoch3"):
        saved_checkpoints(run)


def test_write_learning_curve_writes_the_plot_and_the_numbers(tmp_path):
    summary = {"n": 4, "codebleu": 50.0, "schema_valid": 75.0, "quality": 30.0, "bp": 20.0}
    result = {
        "examples": 4,
        "retrieval": summary,
        "points": [
            {"run": "dual", "checkpoint": "epoch 1", "minutes": 1.0, **summary, "codebleu": 20.0},
            {"run": "dual", "checkpoint": "epoch 2", "minutes": 2.0, **summary, "codebleu": 55.0},
        ],
    }
    png = write_learning_curve(result, tmp_path / "curve")
    assert png.exists() and png.stat().st_size > 1000
    rows = list(csv.DictReader(open(tmp_path / "curve" / "learning_curve.csv")))
    assert [r["run"] for r in rows] == ["retrieval", "dual", "dual"] and rows[2]["codebleu"] == "55.0"
    assert json.loads((tmp_path / "curve" / "learning_curve.json").read_text()) == result
    # with the adapted retrieval line (results without it, as above, still plot)
    write_learning_curve({**result, "retrieval_adapt": {**summary, "codebleu": 53.0}}, tmp_path / "curve2")
    rows = list(csv.DictReader(open(tmp_path / "curve2" / "learning_curve.csv")))
    assert [r["run"] for r in rows] == ["retrieval", "retrieval_adapt", "dual", "dual"]
    assert rows[1]["codebleu"] == "53.0"


def test_parse_runs_needs_name_and_folder():
    assert _parse_runs(["dual=runs/a"]) == {"dual": "runs/a"}
    with pytest.raises(ValueError, match="NAME=RUN_DIR"):
        _parse_runs(["runs/a"])
