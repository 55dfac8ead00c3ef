"""Stage 1: supervised fine-tuning of the dual-encoder model (or of the single-encoder T5 baseline), on Accelerate.

Copy-paste commands (run from the repository root; offline: ``export HF_HUB_OFFLINE=1``)::

    # one device (CPU, one GPU), from a YAML preset; flags override the file
    python train_sft.py configs/sft_tiny.yaml --output_dir runs/sft_tiny

    # the single-encoder baseline of the same size, same tokenizer and budget
    python train_sft.py configs/sft_small.yaml --model_type baseline --tokenizer_name_or_path runs/tok \\
        --output_dir runs/sft_baseline

    # the pointer-generator (copy) variant; the plain T5 baseline ignores the flag (docs/copy.md)
    python train_sft.py configs/sft_tiny.yaml --copy_mechanism true --output_dir runs/sft_tiny_copy

    # its like-for-like single-encoder baseline: same class and flags, one encoder reading intent + pattern
    python train_sft.py configs/sft_tiny.yaml --copy_mechanism true --model_type single --output_dir runs/sft_single

    # warm start from CodeT5 (a Hub id, or a local folder when offline)
    python train_sft.py configs/sft_base.yaml --init_from Salesforce/codet5-base --output_dir runs/sft_codet5

    # several GPUs (DDP), a T4 (fp16), an A100/H100 (bf16), DeepSpeed ZeRO-2 for CodeT5+ 770M
    accelerate launch --config_file configs/accelerate/multi_gpu.yaml train_sft.py configs/sft_base.yaml
    accelerate launch --config_file configs/accelerate/t4_fp16.yaml train_sft.py configs/sft_small.yaml
    accelerate launch --config_file configs/accelerate/a100_bf16.yaml train_sft.py configs/sft_base.yaml
    accelerate launch --config_file configs/accelerate/deepspeed_zero2.yaml train_sft.py configs/sft_base.yaml \\
        --init_from Salesforce/codet5p-770m

    # multi-node: the same accelerate config with num_machines / machine_rank / main_process_ip filled in
    # two CPU processes (gloo; `accelerate launch --cpu` needs MPI for that)
    ACCELERATE_USE_CPU=1 python -m torch.distributed.run --nproc_per_node 2 train_sft.py configs/sft_tiny.yaml

    # resume after an interruption (continues at the saved optimizer step with the same optimizer state)
    python train_sft.py configs/sft_tiny.yaml --output_dir runs/sft_tiny --resume_from_checkpoint latest

Outputs under ``--output_dir``: ``stage1_epoch{N}/`` and ``final/`` (``save_pretrained`` folders with tokenizer,
generation config and ``training_args.yaml``), ``state/step_{S}/`` (``save_state`` for resume), ``logs/``
(TensorBoard).
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from dual_codet5.collate import LengthGroupedSampler, Seq2SeqCollator, example_lengths, tokenize_dataset
from dual_codet5.precision import keep_feed_forward_fp32
from dual_codet5.train_utils import (
    MetricsLog,
    build_accelerator,
    build_model,
    build_optimizer,
    build_scheduler,
    build_tokenizer,
    finish_training,
    load_examples,
    load_training_state,
    resolve_model_type,
    resolve_resume_dir,
    save_checkpoint,
    save_training_state,
)
from dual_codet5.training_args import DataArguments, ModelArguments, SFTArguments, parse_config, resolved_arguments

logger = get_logger(__name__)

MODEL_INPUTS = ("input_ids", "attention_mask", "pattern_input_ids", "pattern_attention_mask", "labels")


def model_inputs(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The keys the model's forward takes (drops bookkeeping such as ``example_index``)."""
    return {k: v for k, v in batch.items() if k in MODEL_INPUTS}


def non_padding_tokens(batch: dict[str, torch.Tensor]) -> int:
    """Real (non-padding) tokens in a batch: encoder inputs + targets."""
    n = int(batch["attention_mask"].sum())
    if "pattern_attention_mask" in batch:
        n += int(batch["pattern_attention_mask"].sum())
    return n + int((batch["labels"] != -100).sum())


def sft_loss(model: torch.nn.Module, batch: dict[str, torch.Tensor], label_smoothing: float) -> torch.Tensor:
    """Token-level cross-entropy on the targets (the model's own loss unless label smoothing is asked for)."""
    out = model(**model_inputs(batch))
    if label_smoothing <= 0:
        return out.loss
    logits = out.logits  # (batch_size, target_len, vocab_size)
    return torch.nn.functional.cross_entropy(
        logits.flatten(0, 1).float(), batch["labels"].flatten(), ignore_index=-100, label_smoothing=label_smoothing
    )


@torch.no_grad()
def evaluate_loss(model: torch.nn.Module, loader: DataLoader, accelerator: Accelerator) -> float:
    """Mean token cross-entropy over a dataloader, reduced over processes."""
    model.eval()
    total = torch.zeros(2, device=accelerator.device)  # (sum of token losses, tokens)
    for batch in loader:
        logits = model(**model_inputs(batch)).logits  # (batch_size, target_len, vocab_size)
        labels = batch["labels"]
        token_losses = torch.nn.functional.cross_entropy(
            logits.float().transpose(1, 2), labels, ignore_index=-100, reduction="none"
        )  # (batch_size, target_len), 0 on padding
        # per-example (loss sum, tokens), gathered without the examples repeated to even out the processes' batches
        per_example = torch.stack([token_losses.sum(dim=1), (labels != -100).sum(dim=1).float()], dim=1)
        total += accelerator.gather_for_metrics(per_example).sum(dim=0)
    model.train()
    return float(total[0] / total[1].clamp(min=1))


def main(argv: list[str] | None = None) -> Path:
    """Run stage 1; returns the ``final`` checkpoint folder."""
    # ---- parse
    model_args, data_args, args = parse_config((ModelArguments, DataArguments, SFTArguments), argv)
    output_dir = Path(args.output_dir)

    # ---- Accelerator + logging
    accelerator = build_accelerator(args)
    logger.info(accelerator.state, main_process_only=False)

    # ---- seed
    set_seed(args.seed)

    # ---- data (the input format depends on the model type: resolve it from --init_from first)
    resolve_model_type(model_args)
    with accelerator.main_process_first():
        dsd = load_examples(data_args)
        tokenizer = build_tokenizer(model_args, dsd)
        tok_kwargs = {
            "model_type": model_args.model_type,
            "max_source_length": data_args.max_source_length,
            "max_pattern_length": data_args.max_pattern_length,
            "max_target_length": data_args.max_target_length,
        }
        train_ds = tokenize_dataset(dsd["train"], tokenizer, **tok_kwargs)
        eval_ds = tokenize_dataset(dsd["validation"], tokenizer, **tok_kwargs) if "validation" in dsd else None
    collator = Seq2SeqCollator(pad_token_id=tokenizer.pad_token_id)
    sampler = LengthGroupedSampler(
        example_lengths(train_ds), args.per_device_train_batch_size, args.seed, data_args.group_by_length
    )
    train_loader = DataLoader(
        train_ds, batch_size=args.per_device_train_batch_size, sampler=sampler, collate_fn=collator
    )
    eval_loader = (
        DataLoader(eval_ds, batch_size=args.per_device_eval_batch_size, collate_fn=collator) if eval_ds else None
    )
    logger.info("train examples: %d, validation: %d", len(train_ds), len(eval_ds) if eval_ds else 0)

    # ---- model
    model = build_model(model_args, tokenizer)
    if args.activation_checkpointing:
        model.activation_checkpointing_enable()
        model.config.use_cache = False
    if accelerator.mixed_precision == "fp16" and args.fp16_feed_forward_fp32:
        keep_feed_forward_fp32(model)
    n_params = sum(p.numel() for p in model.parameters())
    logger.info("model %s (%s): %.2fM parameters", type(model).__name__, model_args.model_type, n_params / 1e6)
    if args.torch_compile:
        # dynamic=True: dynamic padding gives a new shape nearly every batch
        model = torch.compile(model, dynamic=True)

    # ---- optimizer
    optimizer = build_optimizer(model, args)
    scheduler, schedule = build_scheduler(optimizer, args, len(train_ds), accelerator.num_processes)
    steps_per_epoch, max_train_steps, num_epochs = schedule

    # ---- prepare
    model, optimizer, train_loader, scheduler = accelerator.prepare(model, optimizer, train_loader, scheduler)
    if eval_loader is not None:
        eval_loader = accelerator.prepare(eval_loader)

    # ---- trackers
    resolved = resolved_arguments(model_args, data_args, args)
    resolved["stage"] = "sft"
    if args.report_to != "none":
        accelerator.init_trackers("logs", config={k: v for k, v in resolved.items() if not isinstance(v, list)})

    # ---- loop
    completed_steps, start_epoch, skip_batches = 0, 0, 0
    resume_dir = resolve_resume_dir(args.resume_from_checkpoint, args.output_dir)
    if resume_dir is not None:
        completed_steps = load_training_state(accelerator, resume_dir)
        start_epoch = completed_steps // steps_per_epoch
        skip_batches = (completed_steps % steps_per_epoch) * args.gradient_accumulation_steps
        logger.info("resumed from %s at step %d (epoch %d)", resume_dir, completed_steps, start_epoch + 1)

    metrics_log = MetricsLog(output_dir / "metrics.jsonl", accelerator.is_main_process)
    progress = tqdm(
        total=max_train_steps, initial=completed_steps, disable=not accelerator.is_local_main_process, desc="sft"
    )
    running = torch.zeros(2, device=accelerator.device)  # (sum of batch losses, batches) since the last log
    tokens_since_log, t_log = 0, time.perf_counter()
    model.train()
    for epoch in range(start_epoch, num_epochs):
        if completed_steps >= max_train_steps:  # resumed from the last state of a finished run
            break
        train_loader.set_epoch(epoch)
        loader = train_loader
        if epoch == start_epoch and skip_batches:
            loader = accelerator.skip_first_batches(train_loader, skip_batches)
        for batch in loader:
            with accelerator.accumulate(model):
                loss = sft_loss(model, batch, args.label_smoothing)
                accelerator.backward(loss)
                if accelerator.sync_gradients and args.max_grad_norm > 0:
                    accelerator.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            running += torch.stack([loss.detach().float(), torch.ones((), device=loss.device)])
            tokens_since_log += non_padding_tokens(batch)
            if not accelerator.sync_gradients:
                continue
            completed_steps += 1
            progress.update(1)
            if completed_steps % args.logging_steps == 0 or completed_steps == max_train_steps:
                stats = accelerator.reduce(running, reduction="sum")
                tokens = accelerator.reduce(torch.tensor(tokens_since_log, device=accelerator.device), "sum")
                elapsed = time.perf_counter() - t_log
                metrics = {
                    "train/loss": float(stats[0] / stats[1]),
                    "train/lr": scheduler.get_last_lr()[0],
                    "train/epoch": epoch + 1,
                    "train/tokens_per_s": float(tokens) / max(elapsed, 1e-9),
                }
                accelerator.log(metrics, step=completed_steps)
                metrics_log.write(completed_steps, metrics)
                progress.set_postfix(loss=f"{metrics['train/loss']:.4f}")
                logger.info("step %d: %s", completed_steps, {k: round(v, 6) for k, v in metrics.items()})
                running.zero_()
                tokens_since_log, t_log = 0, time.perf_counter()
            if args.checkpointing_steps and completed_steps % args.checkpointing_steps == 0:
                save_training_state(accelerator, args.output_dir, completed_steps, epoch, args.save_total_states)
            if completed_steps >= max_train_steps:
                break
        # end of epoch: evaluate, save the model folder and the resumable state
        if eval_loader is not None:
            eval_loss = evaluate_loss(model, eval_loader, accelerator)
            accelerator.log({"eval/loss": eval_loss}, step=completed_steps)
            metrics_log.write(completed_steps, {"eval/loss": eval_loss, "epoch": epoch + 1})
            logger.info("epoch %d: eval loss %.4f", epoch + 1, eval_loss)
        save_checkpoint(accelerator, model, tokenizer, output_dir / f"stage1_epoch{epoch + 1}", resolved,
                        data_args.max_target_length)  # fmt: skip
        save_training_state(accelerator, args.output_dir, completed_steps, epoch, args.save_total_states)
        if completed_steps >= max_train_steps:
            break
    progress.close()

    # ---- save
    final = finish_training(
        accelerator, model, tokenizer, output_dir, resolved, args, data_args.max_target_length, stage="sft"
    )
    logger.info("finished: %s", final, main_process_only=False)  # every rank says it is done
    return final


if __name__ == "__main__":
    main()
