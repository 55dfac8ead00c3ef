"""The training loop that ``train_sft.py`` and ``train_rl.py`` share: resume, epochs, accumulation, logging, saves.

Each script supplies what differs between the stages as plain callables:

- ``step_fn(batch, state) -> (loss, stats)``: the loss of one batch (the loop runs backward, clip, optimizer and
  scheduler steps around it under ``accelerator.accumulate``) and numbers to sum until the next log (``stats``: name
  -> float or 0-dim tensor, the same names every batch);
- ``log_fn(sums, state, elapsed) -> metrics``: the logged metrics from those sums, reduced over processes, and the
  seconds since the last log;
- ``end_of_epoch_fn(state) -> metrics``: evaluate and save the epoch's model folder; the returned evaluation
  metrics (empty when there is no validation set) are logged with the epoch number.

The loop writes ``metrics.jsonl``, the trackers and the progress bar (main process only), saves ``state/step_{S}``
every ``checkpointing_steps`` and after every epoch, and stops at ``max_train_steps``. Accumulation follows
Accelerate's ``accumulate``: an epoch's last optimizer step may take fewer than ``gradient_accumulation_steps``
batches, so an epoch is ``ceil(batches / gradient_accumulation_steps)`` optimizer steps.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from .train_utils import (
    MetricsLog,
    TrainingSchedule,
    load_training_state,
    resolve_resume_dir,
    save_training_state,
)

logger = logging.getLogger(__name__)

Batch = dict[str, torch.Tensor]


@dataclass
class LoopSettings:
    """What the loop needs to know about a run (from the script's arguments and `build_scheduler`'s schedule)."""

    output_dir: str
    num_epochs: int
    max_train_steps: int
    steps_per_epoch: int
    gradient_accumulation_steps: int = 1
    max_grad_norm: float = 1.0  # <= 0: no clipping
    logging_steps: int = 10
    checkpointing_steps: int | None = None  # None or 0: only the end-of-epoch states
    save_total_states: int = 0  # keep the newest N state folders; 0 keeps all
    resume_from_checkpoint: str | None = None  # a state folder, "latest", or None
    save_model_steps: int = 0  # call save_model_fn every N optimizer steps (0: never)
    desc: str = "train"  # the progress bar's label

    @classmethod
    def from_args(cls, args: Any, schedule: TrainingSchedule, desc: str) -> LoopSettings:
        """The settings of a script whose arguments are `SFTArguments` or `RLArguments`."""
        steps_per_epoch, max_train_steps, num_epochs = schedule
        return cls(
            output_dir=str(args.output_dir),
            num_epochs=num_epochs,
            max_train_steps=max_train_steps,
            steps_per_epoch=steps_per_epoch,
            gradient_accumulation_steps=args.gradient_accumulation_steps,
            max_grad_norm=args.max_grad_norm,
            logging_steps=args.logging_steps,
            checkpointing_steps=args.checkpointing_steps,
            save_total_states=args.save_total_states,
            resume_from_checkpoint=args.resume_from_checkpoint,
            save_model_steps=getattr(args, "save_model_steps", 0),
            desc=desc,
        )


@dataclass
class LoopState:
    """Where the run is; step functions may read it (RL seeds its sampling with ``batches_seen``)."""

    completed_steps: int = 0  # optimizer steps done
    epoch: int = 0  # the current epoch, 0-based
    batches_seen: int = 0  # batches consumed since the start of training, the current one included
    skip_batches: int = 0  # batches of ``epoch`` already consumed before a resume

    @classmethod
    def resumed(
        cls, completed_steps: int, steps_per_epoch: int, accumulation: int, batches_per_epoch: int
    ) -> LoopState:
        """The position after ``completed_steps`` optimizer steps.

        Every epoch but possibly the last is ``steps_per_epoch`` whole steps, so ``completed_steps`` falls in epoch
        ``completed_steps // steps_per_epoch`` after ``completed_steps % steps_per_epoch`` full accumulations of that
        epoch. The batch count uses whole epochs in batches: an epoch's last step may take fewer batches than
        ``accumulation``.
        """
        epoch, steps_into_epoch = divmod(completed_steps, steps_per_epoch)
        skip = steps_into_epoch * accumulation
        return cls(completed_steps, epoch, epoch * batches_per_epoch + skip, skip)


def train_loop(
    accelerator: Any,
    model: torch.nn.Module,
    optimizer: Any,
    scheduler: Any,
    train_loader: Any,
    settings: LoopSettings,
    step_fn: Callable[[Batch, LoopState], tuple[torch.Tensor, dict[str, Any]]],
    log_fn: Callable[[dict[str, float], LoopState, float], dict[str, float]],
    end_of_epoch_fn: Callable[[LoopState], dict[str, float]],
    progress_keys: tuple[str, ...] = (),
    save_model_fn: Callable[[LoopState], None] | None = None,
) -> LoopState:
    """Train ``model`` until ``settings.max_train_steps`` optimizer steps, resuming if asked to.

    Args:
        accelerator: the run's `Accelerator`; ``model``, ``optimizer``, ``scheduler`` and ``train_loader`` are the
            objects it prepared (``load_state`` and ``save_state`` restore and save them).
        settings: see `LoopSettings`.
        step_fn, log_fn, end_of_epoch_fn: the stage's parts (module docstring).
        progress_keys: metrics shown next to the progress bar.
        save_model_fn: called every ``settings.save_model_steps`` optimizer steps (not at the last step, which the
            end of epoch saves) to save a model folder; ``metrics.jsonl`` records ``{"saved_model_step": S}`` with
            its ``elapsed_s``.

    Returns:
        The final `LoopState`.
    """
    state = LoopState()
    resume_dir = resolve_resume_dir(settings.resume_from_checkpoint, settings.output_dir)
    if resume_dir is not None:
        completed = load_training_state(accelerator, resume_dir)
        state = LoopState.resumed(
            completed, settings.steps_per_epoch, settings.gradient_accumulation_steps, len(train_loader)
        )
        if accelerator.is_main_process:
            logger.info("resumed from %s at step %d (epoch %d)", resume_dir, completed, state.epoch + 1)
    start_epoch = state.epoch

    metrics_log = MetricsLog(Path(settings.output_dir) / "metrics.jsonl", accelerator.is_main_process)
    progress = tqdm(
        total=settings.max_train_steps,
        initial=state.completed_steps,
        disable=not accelerator.is_local_main_process,
        desc=settings.desc,
    )
    stat_names: list[str] = []
    running = torch.zeros(0, device=accelerator.device)  # the step stats summed since the last log
    t_log = time.perf_counter()
    model.train()
    for epoch in range(start_epoch, settings.num_epochs):
        if state.completed_steps >= settings.max_train_steps:  # resumed from the last state of a finished run
            break
        state.epoch = epoch
        train_loader.set_epoch(epoch)
        loader = train_loader
        if epoch == start_epoch and state.skip_batches:
            loader = accelerator.skip_first_batches(train_loader, state.skip_batches)
        for batch in loader:
            state.batches_seen += 1
            with accelerator.accumulate(model):
                loss, stats = step_fn(batch, state)
                accelerator.backward(loss)
                if accelerator.sync_gradients and settings.max_grad_norm > 0:
                    accelerator.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
                optimizer.step()  # under accumulate, a no-op until the last batch of an accumulation
                scheduler.step()
                optimizer.zero_grad()

            if not stat_names:
                stat_names = list(stats)
                running = torch.zeros(len(stat_names), device=accelerator.device)
            elif list(stats) != stat_names:
                raise ValueError(f"step_fn returned stats {list(stats)}, earlier batches {stat_names}")
            running += torch.stack(
                [torch.as_tensor(v, dtype=torch.float32, device=accelerator.device) for v in stats.values()]
            )
            if not accelerator.sync_gradients:
                continue
            state.completed_steps += 1
            progress.update(1)

            step = state.completed_steps
            if step % settings.logging_steps == 0 or step == settings.max_train_steps:
                sums = dict(zip(stat_names, accelerator.reduce(running, reduction="sum").tolist()))
                metrics = log_fn(sums, state, time.perf_counter() - t_log)
                accelerator.log(metrics, step=step)
                metrics_log.write(step, metrics)
                progress.set_postfix({k: f"{metrics[k]:.4f}" for k in progress_keys if k in metrics})
                if accelerator.is_main_process:
                    logger.info("step %d: %s", step, {k: round(v, 6) for k, v in metrics.items()})
                running.zero_()
                t_log = time.perf_counter()
            if settings.checkpointing_steps and step % settings.checkpointing_steps == 0:
                save_training_state(accelerator, settings.output_dir, step, epoch, settings.save_total_states)
            if (
                save_model_fn is not None
                and settings.save_model_steps
                and step % settings.save_model_steps == 0
                and step < settings.max_train_steps
            ):
                save_model_fn(state)
                metrics_log.write(step, {"saved_model_step": step})
            if step >= settings.max_train_steps:
                break

        # end of epoch: the stage evaluates and saves its model folder; the loop logs and saves the resumable state
        eval_metrics = end_of_epoch_fn(state)
        if eval_metrics:
            accelerator.log(eval_metrics, step=state.completed_steps)
            metrics_log.write(state.completed_steps, {**eval_metrics, "epoch": epoch + 1})
            if accelerator.is_main_process:
                logger.info("epoch %d: %s", epoch + 1, {k: round(v, 6) for k, v in eval_metrics.items()})
        save_training_state(accelerator, settings.output_dir, state.completed_steps, epoch, settings.save_total_states)
        if state.completed_steps >= settings.max_train_steps:
            break
    progress.close()
    return state


__all__ = ["LoopSettings", "LoopState", "train_loop"]
