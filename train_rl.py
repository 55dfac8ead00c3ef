"""Stage 2: REINFORCE with a leave-one-out baseline (RLOO) and a KL penalty to the SFT model, on Accelerate.

Starts from a stage-1 checkpoint (``--init_from runs/sft/final``), which is also the frozen KL reference. Per intent
it samples k completions in one batched ``generate(num_return_sequences=k)`` (the encoders and the fusion run once
per intent), scores them with ``k8s_scoring.reward_fn`` (R = 0.3 CodeBLEU + 0.4 BP + 0.2 security + 0.1
complexity by default), and follows the policy gradient of ``dual_codet5.rl`` (RLOO: arXiv 2402.14740; gamma
discounting of the terminal reward over tokens; per-token KL folded into the reward with beta = 0.05).

Copy-paste commands (repository root; offline: ``export HF_HUB_OFFLINE=1``)::

    # one device
    python train_rl.py configs/rl_tiny.yaml --init_from runs/sft_tiny/final --output_dir runs/rl_tiny

    # several GPUs (DDP); a T4 (fp16); an A100/H100 (bf16)
    accelerate launch --config_file configs/accelerate/multi_gpu.yaml train_rl.py configs/rl_base.yaml \\
        --init_from runs/sft_base/final --output_dir runs/rl_base
    accelerate launch --config_file configs/accelerate/t4_fp16.yaml train_rl.py configs/rl_small.yaml \\
        --init_from runs/sft_small/final --output_dir runs/rl_small
    accelerate launch --config_file configs/accelerate/a100_bf16.yaml train_rl.py configs/rl_base.yaml \\
        --init_from runs/sft_base/final --output_dir runs/rl_base

    # two CPU processes (gloo)
    ACCELERATE_USE_CPU=1 python -m torch.distributed.run --nproc_per_node 2 train_rl.py configs/rl_tiny.yaml \\
        --init_from runs/sft_tiny/final --output_dir runs/rl_tiny

    # resume; push the result
    python train_rl.py configs/rl_tiny.yaml --init_from runs/sft_tiny/final --output_dir runs/rl_tiny \\
        --resume_from_checkpoint latest --push_to_hub true --hub_model_id you/dual-codet5-k8s-rl

Outputs under ``--output_dir``: ``stage2_epoch{N}/`` and ``final/``, ``state/step_{S}/``, ``logs/`` (TensorBoard),
``metrics.jsonl`` (every logged number) and ``samples.jsonl`` (the table of sample completions).

Dropout is switched off for the whole stage (every rate set to 0; the model stays in training mode so that
``--activation_checkpointing`` still applies) so that the log-probabilities of the update are those of the
distribution the samples were drawn from.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from transformers import LogitsProcessorList

from dual_codet5.collate import LengthGroupedSampler, Seq2SeqCollator, example_lengths, tokenize_dataset
from dual_codet5.lookup import ExemplarLookupLogitsProcessor, expected_tokens
from dual_codet5.loop import LoopSettings, LoopState, train_loop
from dual_codet5.precision import keep_feed_forward_fp32
from dual_codet5.rl import (
    expand_encoder_outputs,
    gather_token_logprobs,
    kl_penalty_rewards,
    policy_gradient_loss,
    token_advantages,
    zero_spread_fraction,
)
from dual_codet5.train_utils import (
    build_accelerator,
    build_model,
    build_optimizer,
    build_scheduler,
    build_tokenizer,
    detected_model_type,
    finish_training,
    load_examples,
    load_reward_fn,
    save_checkpoint,
)
from dual_codet5.training_args import DataArguments, ModelArguments, RLArguments, parse_config, resolved_arguments

logger = get_logger(__name__)

ENCODER_INPUTS = ("input_ids", "attention_mask", "pattern_input_ids", "pattern_attention_mask")
SCORE_PARTS = ("codebleu", "bp", "security", "complexity", "yaml_valid", "schema_valid")
LOOKUP_MAX_NGRAM = 8  # as `generate_yaml`'s default


def encoder_inputs(batch: dict[str, torch.Tensor], repeat: int = 1) -> dict[str, torch.Tensor]:
    """The prompt tensors, each row repeated ``repeat`` times: `(num_prompts, L)` -> `(num_prompts * repeat, L)`."""
    return {k: v.repeat_interleave(repeat, dim=0) for k, v in batch.items() if k in ENCODER_INPUTS}


def sequence_logits(
    model: torch.nn.Module, batch: dict[str, torch.Tensor], decoder_input_ids: torch.Tensor, k: int, accelerator: Any
) -> torch.Tensor:
    """Decoder logits of the ``k`` samples of every prompt, encoding each prompt once.

    The encoder (both encoders and the fusion for the dual model) runs on the ``P`` prompts and its output is
    repeated ``k`` times (`dual_codet5.rl.expand_encoder_outputs`); only the decoder sees ``P * k`` rows. Same
    numbers as encoding ``encoder_inputs(batch, repeat=k)``, with ``k`` times less encoder work and activation
    memory.

    Args:
        model: the policy (possibly wrapped by `accelerator.prepare`) or the frozen reference model.
        batch: the collated prompts, tensors of shape `(P, L)`.
        decoder_input_ids (`torch.LongTensor` of shape `(P * k, T)`): the samples shifted right.

    Returns:
        `torch.FloatTensor` of shape `(P * k, T, vocab_size)`.
    """
    inputs = encoder_inputs(batch)  # (P, L) each
    with accelerator.autocast():  # the prepared model's forward autocasts itself; the bare encoder call does not
        encoded = accelerator.unwrap_model(model).get_encoder()(**inputs)
    expanded = expand_encoder_outputs(encoded, k)  # (P * k, ...) every field
    return model(
        encoder_outputs=expanded,
        attention_mask=inputs["attention_mask"].repeat_interleave(k, dim=0),  # (P * k, L): the baseline's memory mask
        decoder_input_ids=decoder_input_ids,
    ).logits


def completion_mask(tokens: torch.Tensor, eos_token_id: int) -> torch.Tensor:
    """1 up to and including the first ``</s>``, 0 after it.

    Args:
        tokens (`torch.LongTensor` of shape `(batch_size, seq_len)`): sampled tokens (decoder start removed).

    Returns:
        `torch.LongTensor` of shape `(batch_size, seq_len)`.
    """
    is_eos = (tokens == eos_token_id).long()
    after_eos = (is_eos.cumsum(dim=1) - is_eos) > 0  # strictly after the first eos
    return (~after_eos).long()


@torch.no_grad()
def token_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of each position's next-token distribution, one sample at a time.

    Row by row, so that the softmax temporaries stay one sample's size: this runs before the backward pass, while
    the graph of the whole batch is still held.

    Args:
        logits (`torch.FloatTensor` of shape `(batch_size, seq_len, vocab_size)`).

    Returns:
        `torch.FloatTensor` of shape `(batch_size, seq_len)`.
    """
    rows = []
    for row in logits.detach().float():  # (seq_len, vocab_size)
        probs = torch.softmax(row, dim=-1)
        rows.append(-(probs * torch.log(probs.clamp(min=1e-12))).sum(-1))
    return torch.stack(rows)


def disable_dropout(model: torch.nn.Module) -> torch.nn.Module:
    """Zero every dropout rate in place and put ``model`` in training mode.

    Stage 2 needs no dropout (the update's log-probs must be those of the distribution the samples came from), but
    not ``model.eval()``: transformers only checkpoints activations in training mode, so ``--activation_checkpointing``
    would silently do nothing. Covers ``nn.Dropout`` modules and float ``dropout`` attributes (T5 attention,
    ``nn.MultiheadAttention``).
    """
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
        elif isinstance(getattr(module, "dropout", None), float):
            module.dropout = 0.0
    return model.train()


def lookup_kwargs(exemplars: list[list[int]] | None, bonus: float, eos_token_id: int | None) -> dict[str, Any]:
    """`generate` keyword arguments that decode with the exemplar lookup (`dual_codet5.lookup`) when there are
    exemplars and a bonus; none otherwise."""
    if exemplars is None or bonus <= 0:
        return {}
    lookup = ExemplarLookupLogitsProcessor(exemplars, bonus, eos_token_id, LOOKUP_MAX_NGRAM)
    return {"logits_processor": LogitsProcessorList([lookup])}


@torch.no_grad()
def sample_completions(
    model: torch.nn.Module,
    batch: dict[str, torch.Tensor],
    args: RLArguments,
    accelerator: Accelerator,
    exemplars: list[list[int]] | None = None,
    eos_token_id: int | None = None,
) -> torch.Tensor:
    """k samples per prompt from one `generate` call (encoders and fusion run once per prompt).

    Args:
        exemplars: with `args.lookup_bonus > 0`, the token ids of each prompt's exemplar: the samples are drawn with
            the exemplar lookup (`dual_codet5.lookup.ExemplarLookupLogitsProcessor`), as users' decoding runs.

    Returns:
        `torch.LongTensor` of shape `(num_prompts * k, 1 + T)`, starting with the decoder start token; the k samples
        of a prompt are contiguous.
    """
    unwrapped = accelerator.unwrap_model(model)
    extra = lookup_kwargs(exemplars, args.lookup_bonus, eos_token_id)
    with accelerator.autocast():
        return unwrapped.generate(
            **encoder_inputs(batch),
            do_sample=True,
            num_return_sequences=args.num_samples,
            max_new_tokens=args.max_new_tokens,
            temperature=args.temperature,
            top_k=args.top_k,  # 0 = off (None would fall back to generation_config's 50)
            top_p=args.top_p,
            **extra,
        )


def lookup_targets(
    exemplars: list[list[int]], tokens: torch.Tensor, mask: torch.Tensor, k: int, eos_token_id: int
) -> torch.Tensor:
    """The token the lookup expected at every sampled position (`dual_codet5.lookup.expected_tokens`), -1 where it
    gave no bonus or after the completion.

    Args:
        exemplars: one per prompt (`P`).
        tokens (`torch.LongTensor` of shape `(P * k, T)`): the samples, the k of a prompt contiguous.
        mask (`torch.Tensor` of shape `(P * k, T)`): 1 on the completion (`completion_mask`).

    Returns:
        `torch.LongTensor` of shape `(P * k, T)`.
    """
    out = torch.full_like(tokens, -1)
    lengths = mask.sum(dim=1).tolist()
    for row, ids in enumerate(tokens.tolist()):
        n = int(lengths[row])
        expected = expected_tokens(exemplars[row // k], ids[:n], eos_token_id, LOOKUP_MAX_NGRAM)
        out[row, :n] = torch.tensor(expected, dtype=tokens.dtype)
    return out


@torch.no_grad()
def greedy_eval(
    model: torch.nn.Module,
    loader: DataLoader,
    references: list[str],
    reward_fn,
    tokenizer,
    args: RLArguments,
    accelerator: Accelerator,
    exemplars_of=None,
    eos_token_id: int | None = None,
) -> float:
    """Mean reward of greedy completions on the validation prompts, over all processes.

    With `args.lookup_bonus > 0`, `exemplars_of(batch)` gives each prompt's exemplar token ids and the completions
    are decoded with the exemplar lookup, as the policy samples and as users decode.
    """
    unwrapped = accelerator.unwrap_model(model)
    total = torch.zeros(2, device=accelerator.device)  # (sum of rewards, count)
    for batch in loader:
        extra = lookup_kwargs(exemplars_of(batch), args.lookup_bonus, eos_token_id) if exemplars_of else {}
        with accelerator.autocast():
            out = unwrapped.generate(
                **encoder_inputs(batch), do_sample=False, num_beams=1,
                max_new_tokens=args.eval_max_new_tokens or args.max_new_tokens, **extra,
            )  # fmt: skip
        texts = tokenizer.batch_decode(out[:, 1:], skip_special_tokens=True)
        refs = [references[i] for i in batch["example_index"].tolist()]
        rewards = torch.tensor(reward_fn(texts, refs), device=accelerator.device, dtype=torch.float32)
        # all processes' rewards, without the examples repeated to give every process equal batches
        rewards = accelerator.gather_for_metrics(rewards)
        total += torch.stack([rewards.sum(), torch.tensor(float(rewards.numel()), device=accelerator.device)])
    return float(total[0] / total[1].clamp(min=1))


def score_parts(completions: list[str], references: list[str]) -> dict[str, float]:
    """Mean of each reward part and of validity over the completions (k8s reward only; logging steps only)."""
    from k8s_scoring import score

    sums = dict.fromkeys(SCORE_PARTS, 0.0)
    for pred, ref in zip(completions, references):
        s = score(pred, ref)
        for key in SCORE_PARTS:
            sums[key] += float(s.get(key, 0.0))
    return {f"reward_parts/{k}": v / max(len(completions), 1) for k, v in sums.items()}


def adopt_init_retrieval(model_args: ModelArguments, data_args: DataArguments) -> bool:
    """RL samples with the patterns its initial model was trained with: the retrieval settings saved beside the
    `--init_from` checkpoint (`retrieval_config.json`) replace the retrieval fields of `data_args` (logged when they
    differ). Returns whether a saved config was found."""
    import dataclasses

    from k8s_data import RETRIEVAL_CONFIG_NAME, RetrievalConfig

    folder = Path(model_args.init_from)
    if not (folder / RETRIEVAL_CONFIG_NAME).is_file():
        return False
    saved = RetrievalConfig.load(folder)
    current = data_args.retrieval_config()
    if saved != current:
        logger.info("retrieval settings of %s replace the command line's: %s (was %s)", folder, saved, current)
    for f in dataclasses.fields(RetrievalConfig):
        setattr(data_args, f.name, getattr(saved, f.name))
    return True


def main(argv: list[str] | None = None, reward_fn=None) -> Path:
    """Run stage 2; returns the ``final`` checkpoint folder. ``reward_fn`` overrides ``--reward_fn`` (tests)."""
    # ---- parse
    model_args, data_args, args = parse_config((ModelArguments, DataArguments, RLArguments), argv)
    output_dir = Path(args.output_dir)

    # ---- Accelerator + logging
    accelerator = build_accelerator(args)
    logger.info(accelerator.state, main_process_only=False)
    adopt_init_retrieval(model_args, data_args)

    # ---- seed (the same on every process for the weights; per-process sampling streams are set after the model)
    set_seed(args.seed)

    # ---- model (first: it fixes the tokenizer and the input format)
    tokenizer = build_tokenizer(model_args)
    model = build_model(model_args, tokenizer)
    model_type = detected_model_type(model)
    if accelerator.mixed_precision == "fp16" and args.fp16_feed_forward_fp32:
        keep_feed_forward_fp32(model)
    ref_model = copy.deepcopy(model).requires_grad_(False).eval().to(accelerator.device)
    if args.activation_checkpointing:
        model.activation_checkpointing_enable()
    reward = reward_fn or load_reward_fn(args.reward_fn, args.reward_weights)
    set_seed(args.seed, device_specific=True)  # each process draws different samples

    # ---- data
    with accelerator.main_process_first():
        dsd = load_examples(data_args)
        tok_kwargs = {
            "model_type": model_type,
            "max_source_length": data_args.max_source_length,
            "max_pattern_length": data_args.max_pattern_length,
            "max_target_length": data_args.max_target_length,
            "with_targets": False,
        }
        train_ds = tokenize_dataset(dsd["train"], tokenizer, **tok_kwargs)
        eval_ds = tokenize_dataset(dsd["validation"], tokenizer, **tok_kwargs) if "validation" in dsd else None
    train_refs = list(dsd["train"]["yaml"])
    eval_refs = list(dsd["validation"]["yaml"]) if eval_ds is not None else []
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

    if args.torch_compile:
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
    resolved.update(stage="rl", model_type=model_type)
    if args.report_to != "none":
        accelerator.init_trackers("logs", config={k: v for k, v in resolved.items() if not isinstance(v, list)})
    samples_path = output_dir / "samples.jsonl"

    # ---- loop (dual_codet5.loop: resume, accumulation, clipping, logging, checkpoints; this stage's parts below)
    k = args.num_samples
    eos_id = tokenizer.eos_token_id
    if args.lookup_bonus > 0 and data_args.pattern_format != "exemplar":
        raise ValueError("--lookup_bonus needs exemplar patterns (the model reads skeletons: nothing to look up)")
    if args.lookup_bonus > 0 and data_args.exemplar_mask_prob > 0:
        raise ValueError(
            "--lookup_bonus with exemplar_mask_prob > 0: the lookup would reward copying the exemplar's <mask> tokens"
        )

    def exemplar_lookup(split: str):
        """Token ids of each prompt's exemplar in `split` (its full pattern text, as `generate_yaml`'s lookup reads
        it), cached by example index."""
        patterns = list(dsd[split]["k8s_pattern"])
        cache: dict[int, list[int]] = {}

        def of(batch: dict[str, torch.Tensor]) -> list[list[int]]:
            out = []
            for index in batch["example_index"].tolist():
                if index not in cache:
                    text = patterns[index]
                    ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"] if text else []
                    cache[index] = ids
                out.append(cache[index])
            return out

        return of

    # the exemplar columns are read only when the lookup is on
    batch_exemplars = exemplar_lookup("train") if args.lookup_bonus > 0 else None
    eval_exemplars = exemplar_lookup("validation") if args.lookup_bonus > 0 and eval_loader is not None else None
    last: dict[str, Any] = {}  # the latest batch's prompts, completions and rewards, for the logged samples

    def rl_step(batch: dict[str, torch.Tensor], state: LoopState) -> tuple[torch.Tensor, dict[str, float]]:
        # 1. sample k completions per intent: (P, L) prompts -> (P * k, 1 + T) sequences. The sampling seed is a
        # function of (seed, batches consumed, process), so a resumed run draws exactly the samples the original drew
        torch.manual_seed(args.seed + 1_000_003 * state.batches_seen + 7919 * accelerator.process_index)
        exemplars = batch_exemplars(batch) if batch_exemplars is not None else None
        sequences = sample_completions(model, batch, args, accelerator, exemplars, eos_id)
        tokens = sequences[:, 1:]  # (P * k, T): drop the decoder start token
        mask = completion_mask(tokens, eos_id)  # (P * k, T)
        # with the lookup, the policy is the model + lookup: the bonus the lookup gave at each position, (P * k, T)
        expected = lookup_targets(exemplars, tokens, mask, k, eos_id) if exemplars is not None else None
        texts = tokenizer.batch_decode(tokens, skip_special_tokens=True)
        refs = [train_refs[i] for i in batch["example_index"].tolist() for _ in range(k)]

        # 2. terminal reward from the judge: (P * k,)
        scores = torch.tensor(reward(texts, refs), dtype=torch.float32, device=accelerator.device)

        # 3. log-probs of the sampled tokens under the policy (with grad) and the frozen SFT model
        # (each prompt encoded once, its encoding repeated for its k samples)
        logits = sequence_logits(model, batch, sequences[:, :-1], k, accelerator)  # (P * k, T, V)
        logprobs = gather_token_logprobs(logits, tokens, args.temperature, expected, args.lookup_bonus)  # (P * k, T)
        with torch.no_grad(), accelerator.autocast():
            ref_logits = sequence_logits(ref_model, batch, sequences[:, :-1], k, accelerator)
            ref_logprobs = gather_token_logprobs(ref_logits, tokens, args.temperature, expected, args.lookup_bonus)
            del ref_logits

        # 4. KL folded into the reward, RLOO baseline over the k samples, gamma discount: (P * k, T)
        kl, _ = kl_penalty_rewards(logprobs.detach(), ref_logprobs, mask, args.kl_beta)
        advantages = token_advantages(scores, kl, mask, k=k, gamma=args.gamma, beta=args.kl_beta)
        loss = policy_gradient_loss(logprobs, advantages, mask)

        last.update(batch=batch, texts=texts, refs=refs, scores=scores)
        maskf = mask.float()
        n = float(len(texts))
        return loss, {
            "reward": scores.sum().item(),
            "loss": loss.item() * n,
            "kl": kl.sum().item(),
            "entropy": ((token_entropy(logits) * maskf).sum(1) / maskf.sum(1).clamp(min=1)).sum().item(),
            "length": maskf.sum().item(),
            "truncated": float((tokens == eos_id).any(dim=1).logical_not().sum()),
            "zero_spread": zero_spread_fraction(scores, k) * n,
            "reward_sq": (scores**2).sum().item(),
            "sequences": n,
        }

    def log_metrics(sums: dict[str, float], state: LoopState, elapsed: float) -> dict[str, float]:
        n = max(sums["sequences"], 1.0)
        mean_reward = sums["reward"] / n
        metrics = {
            "rl/reward": mean_reward,
            "rl/reward_std": math.sqrt(max(sums["reward_sq"] / n - mean_reward**2, 0.0)),
            "rl/loss": sums["loss"] / n,
            "rl/kl": sums["kl"] / n,
            "rl/entropy": sums["entropy"] / n,
            "rl/completion_length": sums["length"] / n,
            "rl/truncated_share": sums["truncated"] / n,
            "rl/zero_spread_groups": sums["zero_spread"] / n,
            "rl/lr": scheduler.get_last_lr()[0],
            "rl/epoch": state.epoch + 1,
            "rl/seconds_per_step": elapsed / args.logging_steps,
        }
        if args.reward_fn == "k8s" and reward_fn is None:
            metrics.update(score_parts(last["texts"], last["refs"]))  # this process' last batch: a sample
        write_samples(accelerator, samples_path, state.completed_steps, last["batch"], last["texts"], last["refs"],
                      last["scores"], args, tokenizer)  # fmt: skip
        return metrics

    def end_of_epoch(state: LoopState) -> dict[str, float]:
        metrics = {}
        if eval_loader is not None:  # the mean reward of greedy completions
            metrics["eval/reward"] = greedy_eval(
                model, eval_loader, eval_refs, reward, tokenizer, args, accelerator, eval_exemplars, eos_id
            )
        save_checkpoint(accelerator, model, tokenizer, output_dir / f"stage2_epoch{state.epoch + 1}", resolved,
                        data_args.max_target_length)  # fmt: skip
        return metrics

    disable_dropout(model)  # the update's log-probs are those of the sampling distribution
    settings = LoopSettings.from_args(args, schedule, desc="rl")
    train_loop(
        accelerator, model, optimizer, scheduler, train_loader, settings, rl_step, log_metrics, end_of_epoch,
        progress_keys=("rl/reward", "rl/kl"),
    )  # fmt: skip

    # ---- save
    final = finish_training(
        accelerator, model, tokenizer, output_dir, resolved, args, data_args.max_target_length, stage="rl"
    )
    logger.info("finished: %s", final, main_process_only=False)  # every rank says it is done
    return final


def write_samples(accelerator, path, step, batch, texts, refs, scores, args, tokenizer) -> None:
    """Append a few (intent, completion, reward) rows to ``samples.jsonl`` and a Markdown table to TensorBoard."""
    if not accelerator.is_main_process or args.num_sample_logs <= 0:
        return
    intents = tokenizer.batch_decode(batch["input_ids"], skip_special_tokens=True)
    rows = []
    for i in range(min(args.num_sample_logs, len(texts))):
        rows.append(
            {"step": step, "intent": intents[i // args.num_samples], "completion": texts[i],
             "reference": refs[i], "reward": float(scores[i])}
        )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    if args.report_to == "tensorboard":

        def cell(s: str) -> str:
            return s.replace("|", "\\|").replace("\n", "<br>")[:400]

        table = "| intent | completion | reward |\n|---|---|---|\n" + "\n".join(
            f"| {cell(r['intent'])} | {cell(r['completion'])} | {r['reward']:.3f} |" for r in rows
        )
        tracker = accelerator.get_tracker("tensorboard", unwrap=True)
        tracker.add_text("samples", table, global_step=step)


if __name__ == "__main__":
    main()
