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

import dataclasses
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.utils import set_seed
from torch.utils.data import DataLoader

from dual_codet5.collate import (
    LengthGroupedSampler,
    Seq2SeqCollator,
    apply_long_target_policy,
    example_lengths,
    tokenize_dataset,
)
from dual_codet5.loop import LoopSettings, LoopState, train_loop
from dual_codet5.precision import keep_feed_forward_fp32
from dual_codet5.span_corruption import span_corruption_dataset
from dual_codet5.train_utils import (
    build_accelerator,
    build_model,
    build_optimizer,
    build_scheduler,
    build_tokenizer,
    finish_training,
    load_examples,
    resolve_model_type,
    save_checkpoint,
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


def span_corruption_splits(
    dsd: Any, tokenizer: Any, model_type: str, data_args: DataArguments, seed: int
) -> tuple[Any, dict[str, float], Any]:
    """``--objective span_corruption``: the train (and validation) YAML corrupted T5-style, cut to the pattern budget.

    Returns:
        `(train_ds, report, eval_ds)`; ``report["long_share"]`` is the share of train YAML cut to fit.
    """
    kwargs = {
        "model_type": model_type,
        "max_length": data_args.max_pattern_length,
        "noise_density": data_args.noise_density,
        "mean_noise_span_length": data_args.mean_noise_span_length,
    }
    train_ds, report = span_corruption_dataset(dsd["train"]["yaml"], tokenizer, seed=seed, **kwargs)
    eval_ds = None
    if "validation" in dsd:
        eval_ds, _ = span_corruption_dataset(dsd["validation"]["yaml"], tokenizer, seed=seed + 1, **kwargs)
    return train_ds, report, eval_ds


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
    denoising = data_args.objective == "span_corruption"
    with accelerator.main_process_first():
        # pre-training reads only the YAML: no patterns to build
        dsd = load_examples(dataclasses.replace(data_args, pattern_mode="none") if denoising else data_args)
        tokenizer = build_tokenizer(model_args, dsd)
        if denoising:
            train_ds, long_report, eval_ds = span_corruption_splits(dsd, tokenizer, model_args.model_type, data_args,
                                                                    args.seed)  # fmt: skip
        else:
            tok_kwargs = {
                "model_type": model_args.model_type,
                "max_source_length": data_args.max_source_length,
                "max_pattern_length": data_args.max_pattern_length,
                "max_target_length": data_args.max_target_length,
            }
            train_ds = tokenize_dataset(dsd["train"], tokenizer, **tok_kwargs)
            train_ds, long_report = apply_long_target_policy(
                train_ds, dsd["train"]["yaml"], tokenizer, data_args.max_target_length, data_args.long_targets
            )
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

    # ---- prepare
    model, optimizer, train_loader, scheduler = accelerator.prepare(model, optimizer, train_loader, scheduler)
    if eval_loader is not None:
        eval_loader = accelerator.prepare(eval_loader)

    # ---- trackers
    resolved = resolved_arguments(model_args, data_args, args)
    resolved["stage"] = "span_corruption" if denoising else "sft"
    resolved["long_target_share"] = round(long_report["long_share"], 4)  # train targets > max_target_length
    if args.report_to != "none":
        accelerator.init_trackers("logs", config={k: v for k, v in resolved.items() if not isinstance(v, list)})

    # ---- loop (dual_codet5.loop: resume, accumulation, clipping, logging, checkpoints; this stage's parts below)
    def sft_step(batch: dict[str, torch.Tensor], state: LoopState) -> tuple[torch.Tensor, dict[str, Any]]:
        loss = sft_loss(model, batch, args.label_smoothing)
        return loss, {"loss": loss.detach().float(), "batches": 1, "tokens": non_padding_tokens(batch)}

    def log_metrics(sums: dict[str, float], state: LoopState, elapsed: float) -> dict[str, float]:
        return {
            "train/loss": sums["loss"] / sums["batches"],
            "train/lr": scheduler.get_last_lr()[0],
            "train/epoch": state.epoch + 1,
            "train/tokens_per_s": sums["tokens"] / max(elapsed, 1e-9),
        }

    def end_of_epoch(state: LoopState) -> dict[str, float]:
        metrics = {"eval/loss": evaluate_loss(model, eval_loader, accelerator)} if eval_loader is not None else {}
        save_checkpoint(accelerator, model, tokenizer, output_dir / f"stage1_epoch{state.epoch + 1}", resolved,
                        data_args.max_target_length)  # fmt: skip
        return metrics

    def save_model(state: LoopState) -> None:  # --save_model_steps: learning-curve points
        save_checkpoint(accelerator, model, tokenizer, output_dir / f"stage1_step{state.completed_steps}", resolved,
                        data_args.max_target_length)  # fmt: skip

    settings = LoopSettings.from_args(args, schedule, desc=resolved["stage"])
    train_loop(
        accelerator, model, optimizer, scheduler, train_loader, settings, sft_step, log_metrics, end_of_epoch,
        progress_keys=("train/loss",), save_model_fn=save_model,
    )  # fmt: skip

    # ---- save
    final = finish_training(
        accelerator, model, tokenizer, output_dir, resolved, args, data_args.max_target_length, stage="sft"
    )
    logger.info("finished: %s", final, main_process_only=False)  # every rank says it is done
    return final


if __name__ == "__main__":
    main()
