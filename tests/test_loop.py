"""dual_codet5.loop on a toy linear model: accumulation cadence, resume arithmetic, checkpoints, logging."""

from pathlib import Path

import pytest
import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader

from dual_codet5.loop import LoopSettings, LoopState, train_loop
from dual_codet5.train_utils import list_states, read_metrics

NUM_BATCHES = 5  # 10 examples, batch 2


def toy_run(output_dir: Path, accumulation: int = 2, resume: str | None = None, max_steps: int = 0) -> dict:
    """Train a 3 -> 1 linear model with SGD + momentum for 2 epochs; record what the loop handed the step."""
    accelerator = Accelerator(gradient_accumulation_steps=accumulation, cpu=True)
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    xs = torch.randn(10, 3)
    data = [{"x": xs[i], "y": xs[i].sum(0, keepdim=True), "index": torch.tensor(i)} for i in range(10)]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)  # momentum: resume needs its state
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, 1.0, 0.1, total_iters=8)
    loader = DataLoader(data, batch_size=2)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    steps_per_epoch = -(-NUM_BATCHES // accumulation)
    settings = LoopSettings(
        output_dir=str(output_dir),
        num_epochs=2 if not max_steps else -(-max_steps // steps_per_epoch),
        max_train_steps=max_steps or 2 * steps_per_epoch,
        steps_per_epoch=steps_per_epoch,
        gradient_accumulation_steps=accumulation,
        logging_steps=1,
        checkpointing_steps=2,
        resume_from_checkpoint=resume,
    )
    seen = {"batches": [], "sync": [], "batches_seen": [], "epochs_ended": []}

    def step_fn(batch, state):
        seen["batches"].append(batch["index"].tolist())
        seen["sync"].append(accelerator.sync_gradients)
        seen["batches_seen"].append(state.batches_seen)
        loss = torch.nn.functional.mse_loss(model(batch["x"]), batch["y"])
        return loss, {"loss": loss.detach(), "batches": 1}

    def log_fn(sums, state, elapsed):
        return {"train/loss": sums["loss"] / sums["batches"], "train/batches": sums["batches"]}

    def end_of_epoch_fn(state):
        seen["epochs_ended"].append(state.epoch)
        return {"eval/x": 1.0}

    state = train_loop(accelerator, model, optimizer, scheduler, loader, settings, step_fn, log_fn, end_of_epoch_fn)
    seen["state"] = state
    seen["weights"] = [p.detach().clone() for p in accelerator.unwrap_model(model).parameters()]
    return seen


@pytest.mark.parametrize(
    "completed, expected",
    [
        (0, LoopState(0, 0, 0, 0)),  # a fresh run
        (1, LoopState(1, 0, 2, 2)),  # one full accumulation of epoch 1 done
        (3, LoopState(3, 1, 5, 0)),  # epoch 1 = 3 steps over 5 batches (the last step takes 1): epoch 2 from its start
        (4, LoopState(4, 1, 7, 2)),  # 5 batches of epoch 1 + 2 of epoch 2, not 4 * 2
        (6, LoopState(6, 2, 10, 0)),  # a finished 2-epoch run: the loop starts past its last epoch
    ],
)
def test_resume_position(completed, expected):
    assert LoopState.resumed(completed, steps_per_epoch=3, accumulation=2, batches_per_epoch=5) == expected


def test_accumulation_steps_every_n_batches_and_at_the_end_of_an_epoch(tmp_path):
    run = toy_run(tmp_path)
    # 5 batches, 2 per step: steps after batches 2, 4 and (the short last accumulation) 5, in both epochs
    assert run["sync"] == [False, True, False, True, True] * 2
    assert run["state"].completed_steps == 6 and run["epochs_ended"] == [0, 1]
    assert run["batches_seen"] == list(range(1, 11))
    records = read_metrics(tmp_path / "metrics.jsonl")
    # one train record per optimizer step, summing the batches of its accumulation; one eval record per epoch
    assert [r["train/batches"] for r in records if "train/loss" in r] == [2, 2, 1] * 2
    assert [(r["step"], r["epoch"]) for r in records if "eval/x" in r] == [(3, 1), (6, 2)]
    # every checkpointing_steps and at the end of every epoch
    assert [p.name for p in list_states(tmp_path)] == ["step_2", "step_3", "step_4", "step_6"]


@pytest.mark.parametrize("resume_step", [2, 4])  # mid epoch 1; mid epoch 2 after epoch 1's short accumulation
def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_run(tmp_path, resume_step):
    full = toy_run(tmp_path / "full")
    resumed = toy_run(tmp_path / "resumed", resume=str(tmp_path / "full" / "state" / f"step_{resume_step}"))
    skipped = 2 * resume_step if resume_step <= 2 else NUM_BATCHES + 2 * (resume_step - 3)
    assert resumed["batches"] == full["batches"][skipped:]
    assert resumed["batches_seen"] == full["batches_seen"][skipped:]
    assert resumed["state"].completed_steps == full["state"].completed_steps == 6
    for a, b in zip(full["weights"], resumed["weights"]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_max_steps_stops_mid_epoch_and_a_finished_run_trains_no_further(tmp_path):
    run = toy_run(tmp_path, max_steps=2)
    assert run["state"].completed_steps == 2 and len(run["batches"]) == 4 and run["epochs_ended"] == [0]
    again = toy_run(tmp_path, max_steps=2, resume="latest")
    assert again["batches"] == [] and again["epochs_ended"] == []


def one_weight_run(n_batches: int) -> tuple:
    """`(accelerator, model, optimizer, scheduler, loader)`: a 1 -> 1 linear model over `n_batches` batches of one."""
    accelerator = Accelerator(cpu=True)
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    loader = DataLoader([torch.ones(1)] * n_batches, batch_size=1)
    return accelerator, *accelerator.prepare(model, optimizer, loader, scheduler)


def test_stats_must_keep_their_names(tmp_path):
    accelerator, model, optimizer, loader, scheduler = one_weight_run(4)
    settings = LoopSettings(output_dir=str(tmp_path), num_epochs=1, max_train_steps=4, steps_per_epoch=4)

    def step_fn(batch, state):
        loss = model(batch).sum()
        return loss, {"a": 1.0} if state.batches_seen == 1 else {"b": 1.0}

    with pytest.raises(ValueError, match="step_fn returned stats"):
        train_loop(accelerator, model, optimizer, scheduler, loader, settings, step_fn, lambda *a: {}, lambda s: {})


def test_save_model_fn_every_n_steps_but_not_the_last(tmp_path):
    accelerator, model, optimizer, loader, scheduler = one_weight_run(6)
    settings = LoopSettings(
        output_dir=str(tmp_path), num_epochs=1, max_train_steps=6, steps_per_epoch=6, save_model_steps=2
    )
    saved = []
    train_loop(
        accelerator, model, optimizer, scheduler, loader, settings,
        lambda batch, state: (model(batch).sum(), {"n": 1.0}), lambda *a: {}, lambda s: {},
        save_model_fn=lambda state: saved.append(state.completed_steps),
    )  # fmt: skip
    assert saved == [2, 4]  # step 6 is the end of the run: the end of epoch saves it
    records = [r for r in read_metrics(tmp_path / "metrics.jsonl") if "saved_model_step" in r]
    assert [r["saved_model_step"] for r in records] == [2, 4] and all("elapsed_s" in r for r in records)
