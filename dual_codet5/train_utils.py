"""What `train_sft.py` and `train_rl.py` share: data, tokenizer, model construction, optimizer, checkpoints, resume.

Checkpoint layout under ``output_dir``::

    stage1_epoch{N}/ | stage2_epoch{N}/ | final/   save_pretrained folders: config (+ auto_map for the dual model),
                                                   model.safetensors, tokenizer, generation_config.json,
                                                   training_args.yaml (the resolved arguments)
    state/step_{S}/                                accelerator.save_state (model, optimizer, scheduler, RNG) +
                                                   training_state.json (optimizer step, epoch)
    logs/                                          TensorBoard
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import math
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

import torch
import yaml

from dual_codet5.training_args import DataArguments, ModelArguments

logger = logging.getLogger(__name__)

STATE_DIR = "state"
TRAINING_STATE_FILE = "training_state.json"
ARGS_FILE = "training_args.yaml"
#: DualCodeT5Config fields that a T5Config does not have
DUAL_ONLY_FIELDS = (
    "pattern_num_layers", "fusion_num_heads", "fusion_dropout", "tie_encoders", "copy_mechanism", "copy_from",
)  # fmt: skip
RewardFn = Callable[[list[str], list[str]], list[float]]


def build_accelerator(args: Any) -> Any:
    """The `Accelerator` of a training script (accumulation, precision, trackers under ``--output_dir``), with
    logging configured; both scripts start this way."""
    from accelerate import Accelerator

    accelerator = Accelerator(
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        mixed_precision=args.mixed_precision,
        log_with=None if args.report_to == "none" else args.report_to,
        project_dir=str(args.output_dir),
    )
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    return accelerator


# ----------------------------------------------------------------------------------------------------------- data
def load_examples(data_args: DataArguments) -> Any:
    """The examples as a `datasets.DatasetDict` with ``train`` (and ``validation`` when available) splits.

    Every split has ``intent``, ``k8s_pattern`` and ``yaml`` columns. Files that already carry ``k8s_pattern`` are
    used as they are; files without it (the seed's format) and the bundled corpus go through
    `k8s_data.load_k8s_intents`, which adds the pattern the way ``--pattern_mode`` says.
    """
    import datasets

    from k8s_data import load_k8s_intents

    if data_args.train_file is None:
        dsd = load_k8s_intents(pattern_mode=data_args.pattern_mode, seed=data_args.data_seed,
                               retrieval=data_args.retrieval_config())
    else:
        files = {"train": data_args.train_file}
        if data_args.validation_file:
            files["validation"] = data_args.validation_file
        splits = {name: _load_json_split(path) for name, path in files.items()}
        if all("k8s_pattern" in ds.column_names for ds in splits.values()):
            dsd = datasets.DatasetDict(splits)
        else:
            dsd = load_k8s_intents(pattern_mode=data_args.pattern_mode, data_files=files, seed=data_args.data_seed,
                                   retrieval=data_args.retrieval_config())
    dsd = datasets.DatasetDict({k: v for k, v in dsd.items() if k in ("train", "validation")})
    for split, limit in (("train", data_args.max_train_samples), ("validation", data_args.max_eval_samples)):
        if limit is not None and split in dsd and len(dsd[split]) > limit:
            dsd[split] = dsd[split].select(range(limit))
    return dsd


def _load_json_split(path: str) -> Any:
    """A JSON list (the seed's ``train_data.json``) or a JSONL file of records with ``intent`` and ``yaml``."""
    import datasets

    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    records = json.loads(text) if text.lstrip().startswith("[") else [json.loads(x) for x in text.splitlines() if x]
    missing = {"intent", "yaml"} - set(records[0]) if records else {"intent", "yaml"}
    if missing:
        raise ValueError(f"{path}: records need the fields intent and yaml (missing {sorted(missing)})")
    return datasets.Dataset.from_list(records)


def tokenizer_training_texts(dsd: Any) -> Iterable[str]:
    """Intents, patterns and target YAML of the TRAIN split (never validation/test)."""
    train = dsd["train"]
    for intent, pattern, target in zip(train["intent"], train["k8s_pattern"], train["yaml"]):
        yield intent
        if pattern:
            yield pattern
        yield target


# ------------------------------------------------------------------------------------------------------ tokenizer
def build_tokenizer(model_args: ModelArguments, dsd: Any | None = None) -> Any:
    """The tokenizer named by the arguments, or one trained on the training split for a preset."""
    from transformers import AutoTokenizer

    if model_args.tokenizer_name_or_path:
        return AutoTokenizer.from_pretrained(model_args.tokenizer_name_or_path, trust_remote_code=True)
    if not model_args.is_preset:
        return AutoTokenizer.from_pretrained(model_args.init_from, trust_remote_code=True)
    if dsd is None:
        raise ValueError("a preset without --tokenizer_name_or_path needs the training data to train a tokenizer")
    from k8s_data import train_tokenizer

    logger.info("training a %d-token tokenizer on the training split", model_args.tokenizer_vocab_size)
    return train_tokenizer(tokenizer_training_texts(dsd), vocab_size=model_args.tokenizer_vocab_size)


# ---------------------------------------------------------------------------------------------------------- model
def is_model_folder(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "config.json"))


def checkpoint_model_type(path: str) -> str | None:
    """``"dual"`` / ``"single"`` / ``"baseline"`` for a folder saved by these scripts (it has ``training_args.yaml``),
    read from its ``config.json`` (`dual_codet5.collate.model_type_of_config`); None for anything else (a preset
    name, CodeT5, a Hub id)."""
    from dual_codet5.collate import model_type_of_config

    if not (is_model_folder(path) and os.path.isfile(os.path.join(path, ARGS_FILE))):
        return None
    with open(os.path.join(path, "config.json"), encoding="utf-8") as fh:
        return model_type_of_config(json.load(fh))


def resolve_model_type(model_args: ModelArguments) -> str:
    """Set ``model_args.model_type`` when it was left unset, and return it.

    A checkpoint saved by these scripts keeps its own type: ``--init_from runs/sft_baseline/final`` trains the
    baseline further (turning it into a dual model with a fresh fusion would throw the training away), and asking
    for another type is an error. Anything else (presets, CodeT5) defaults to ``"dual"``.
    """
    saved = checkpoint_model_type(model_args.init_from)
    if saved is not None and model_args.model_type not in (None, saved):
        raise ValueError(
            f"{model_args.init_from} holds a trained {saved} model; drop --model_type {model_args.model_type} "
            f"(or pass --model_type {saved})"
        )
    if model_args.model_type is None:
        model_args.model_type = saved or "dual"
        if saved is not None:
            logger.info("model type read from %s: %s", model_args.init_from, saved)
    return model_args.model_type


def build_model(model_args: ModelArguments, tokenizer: Any) -> torch.nn.Module:
    """A fresh preset model, a CodeT5 warm start, or a model saved by these scripts (see ``--init_from``).

    An unset ``model_args.model_type`` is resolved first (`resolve_model_type`).
    """
    resolve_model_type(model_args)
    from transformers import AutoConfig, AutoModelForSeq2SeqLM, T5ForConditionalGeneration

    import modeling_dual_codet5  # noqa: F401  (registers the Auto classes)
    from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration
    from modeling_dual_codet5.presets import baseline_t5_config, preset_config, single_encoder_config

    overrides = model_args.overrides()
    if "single_encoder" in overrides:
        raise ValueError("choose the single-encoder model with --model_type single, not a single_encoder override")
    if model_args.model_type == "baseline":
        # one override string serves both models of a comparison; the T5 baseline has no pattern encoder / fusion
        dropped = {k: overrides.pop(k) for k in DUAL_ONLY_FIELDS if k in overrides}
        if dropped:
            logger.info("baseline: ignoring dual-only overrides %s", dropped)
    special = {
        "vocab_size": len(tokenizer),
        "pad_token_id": tokenizer.pad_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "decoder_start_token_id": tokenizer.pad_token_id,
    }
    if model_args.is_preset:
        config = preset_config(model_args.init_from, **{**special, **overrides})
        if model_args.model_type == "dual":
            return DualCodeT5ForConditionalGeneration(config)
        if model_args.model_type == "single":
            # the overrides describe the dual model of the comparison; its single twin gets both encoders' depth
            return DualCodeT5ForConditionalGeneration(single_encoder_config(config))
        return T5ForConditionalGeneration(baseline_t5_config(config))
    # a folder / hub id
    config_type = None
    if is_model_folder(model_args.init_from):
        config_type = AutoConfig.from_pretrained(model_args.init_from, trust_remote_code=True).model_type
    if config_type == "dual_codet5" or model_args.model_type == "baseline":
        model = AutoModelForSeq2SeqLM.from_pretrained(model_args.init_from, **overrides)
        found = detected_model_type(model)
        if found != model_args.model_type:
            raise ValueError(f"{model_args.init_from} holds a {found} model; use --model_type {found}")
    else:
        if model_args.model_type == "single":
            overrides = {**overrides, **_single_codet5_overrides(model_args.init_from, overrides)}
        model = DualCodeT5ForConditionalGeneration.from_codet5(model_args.init_from, **overrides)
    if model.get_input_embeddings().num_embeddings < len(tokenizer):
        model.resize_token_embeddings(len(tokenizer))
    return model


def _single_codet5_overrides(name_or_path: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Config fields of the single-encoder twin of ``from_codet5(name_or_path, **overrides)``: one encoder as deep as
    that dual model's two (`modeling_dual_codet5.presets.single_encoder_config`)."""
    from transformers import AutoConfig

    source_depth = AutoConfig.from_pretrained(name_or_path).num_layers
    depth = overrides.get("num_layers", source_depth)
    if not overrides.get("tie_encoders", False):
        depth += overrides.get("pattern_num_layers", depth)
    return {"num_layers": depth, "single_encoder": True, "tie_encoders": False}


def detected_model_type(model: torch.nn.Module) -> str:
    """``"dual"`` / ``"single"`` for DualCodeT5 (by ``config.single_encoder``), ``"baseline"`` for a plain T5."""
    from dual_codet5.collate import model_type_of_config

    return model_type_of_config(model.config)


def build_optimizer(model: torch.nn.Module, args: Any) -> torch.optim.Optimizer:
    """AdamW with weight decay on weight matrices only."""
    decay, no_decay = [], []
    for param in model.parameters():
        if not param.requires_grad:
            continue
        # 1-D tensors are biases and layer-norm scales: no decay on them (the usual AdamW recipe)
        (no_decay if param.ndim < 2 else decay).append(param)
    groups = [
        {"params": decay, "weight_decay": args.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(
        groups, lr=args.learning_rate, betas=(args.adam_beta1, args.adam_beta2), eps=args.adam_epsilon
    )


class TrainingSchedule(NamedTuple):
    """How many optimizer steps a run takes.

    Args:
        steps_per_epoch: Optimizer steps in one pass over the training data (all processes together).
        max_train_steps: Optimizer steps of the whole run (`--max_steps`, else epochs x steps_per_epoch).
        num_epochs: Passes over the data needed for `max_train_steps`.
    """

    steps_per_epoch: int
    max_train_steps: int
    num_epochs: int


def build_scheduler(
    optimizer: torch.optim.Optimizer, args: Any, num_examples: int, num_processes: int
) -> tuple[Any, TrainingSchedule]:
    """The learning-rate scheduler (`--lr_scheduler_type`, warm-up) and the step counts of a run."""
    from transformers import get_scheduler

    batches_per_epoch = math.ceil(num_examples / (args.per_device_train_batch_size * num_processes))
    steps_per_epoch = math.ceil(batches_per_epoch / args.gradient_accumulation_steps)
    max_train_steps = args.max_steps if args.max_steps > 0 else args.num_train_epochs * steps_per_epoch
    schedule = TrainingSchedule(steps_per_epoch, max_train_steps, math.ceil(max_train_steps / steps_per_epoch))
    # the prepared scheduler steps once per process per optimizer step, hence the num_processes factor
    scheduler = get_scheduler(
        args.lr_scheduler_type,
        optimizer=optimizer,
        num_warmup_steps=args.warmup_steps * num_processes,
        num_training_steps=max_train_steps * num_processes,
    )
    return scheduler, schedule


# ---------------------------------------------------------------------------------------------------- checkpoints
def save_checkpoint(
    accelerator: Any,
    model: torch.nn.Module,
    tokenizer: Any,
    folder: str | os.PathLike,
    resolved_args: dict[str, Any],
    max_new_tokens: int | None = None,
) -> Path:
    """``save_pretrained`` the unwrapped model (safetensors), tokenizer, generation config and resolved arguments."""
    folder = Path(folder)
    accelerator.wait_for_everyone()
    unwrapped = accelerator.unwrap_model(model)
    unwrapped = getattr(unwrapped, "_orig_mod", unwrapped)  # torch.compile wrapper
    # on every process: under DeepSpeed ZeRO-3 gathering the weights is a collective
    full_state = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        folder.mkdir(parents=True, exist_ok=True)
        gen = unwrapped.generation_config
        gen.decoder_start_token_id = unwrapped.config.decoder_start_token_id
        gen.pad_token_id = tokenizer.pad_token_id
        gen.eos_token_id = tokenizer.eos_token_id
        if max_new_tokens:
            gen.max_new_tokens = max_new_tokens
            gen.max_length = None
        # a torch.compile'd model's state dict has "_orig_mod." prefixes: strip them so the folder loads anywhere
        state_dict = {k.removeprefix("_orig_mod."): v for k, v in full_state.items()}
        unwrapped.save_pretrained(folder, state_dict=state_dict, save_function=accelerator.save)
        tokenizer.save_pretrained(folder)
        with open(folder / ARGS_FILE, "w", encoding="utf-8") as fh:
            yaml.safe_dump(resolved_args, fh, sort_keys=False)
        save_model_retrieval(folder, resolved_args)
        logger.info("saved %s", folder)
    accelerator.wait_for_everyone()
    return folder


_BANKS: dict[str, Any] = {}  # pattern banks by data arguments: built once per run, saved with every checkpoint


def save_model_retrieval(folder: str | os.PathLike, resolved_args: dict[str, Any]) -> bool:
    """Save the pattern bank and retrieval settings the model was trained with into its folder
    (`k8s_data.save_retrieval`), so inference serves the same kind of pattern from the same bank.

    Both come from the resolved arguments: the `DataArguments` retrieval fields give the `RetrievalConfig`, and
    ``train_file`` / ``validation_file`` / ``data_seed`` the bank (`k8s_data.pattern_bank_for`, the train split
    `load_k8s_intents` retrieves from for the same arguments).

    Returns:
        False (nothing saved) when the arguments hold no data arguments.
    """
    from k8s_data import RetrievalConfig, pattern_bank_for, save_retrieval

    if "data_seed" not in resolved_args:
        logger.debug("no data arguments: no retrieval files saved in %s", folder)
        return False
    config_fields = {f.name for f in dataclasses.fields(RetrievalConfig)}
    config = RetrievalConfig.from_dict({k: v for k, v in resolved_args.items() if k in config_fields})
    files = None
    if resolved_args.get("train_file"):
        files = {"train": resolved_args["train_file"]}
        if resolved_args.get("validation_file"):
            files["validation"] = resolved_args["validation_file"]
    key = json.dumps([files, resolved_args["data_seed"]])
    if key not in _BANKS:
        _BANKS[key] = pattern_bank_for(files, int(resolved_args["data_seed"]))
    save_retrieval(folder, _BANKS[key], config)
    return True


def finish_training(
    accelerator: Any, model: torch.nn.Module, tokenizer: Any, output_dir: Path, resolved: dict[str, Any],
    args: Any, max_target_length: int, stage: str,
) -> Path:  # fmt: skip
    """Save ``final/``, push it when `--push_to_hub` asks, and close the trackers; returns the ``final/`` folder."""
    final = save_checkpoint(accelerator, model, tokenizer, output_dir / "final", resolved, max_target_length)
    if args.push_to_hub and accelerator.is_main_process:
        from dual_codet5.hub import push_checkpoint

        push_checkpoint(final, args.hub_model_id, private=args.hub_private, stage=stage, resolved_args=resolved)
    accelerator.end_training()
    return final


def drop_tied_aliases(state_dict: dict[str, Any]) -> list[str]:
    """Remove, in place, every entry that is an exact alias of an earlier one (same storage, offset, shape, strides).

    A model with tied weights (the dual model's LM head and shared embedding; T5's ``shared`` / ``embed_tokens`` /
    ``lm_head``) lists one tensor under several names. ``accelerator.save_state`` removes such duplicates itself,
    since safetensors cannot store aliases, but logs "Removed shared tensor {...} while saving" every time, because
    it cannot know whether the tie comes back on load. It does: ``accelerator.load_state`` loads through
    ``safetensors.torch.load_model``, which re-fills aliased names from the stored one. Removing exact aliases
    first writes the same file without the warning; partial overlaps (views) are left to accelerate, which still
    warns about them.

    Returns:
        The removed names.
    """
    seen: dict[tuple[Any, ...], str] = {}
    removed = []
    for name, tensor in list(state_dict.items()):
        if not isinstance(tensor, torch.Tensor) or tensor.device.type == "meta":
            continue
        key = (
            tensor.device, tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape),
            tensor.stride(), tensor.dtype,
        )  # fmt: skip
        if key in seen:
            del state_dict[name]
            removed.append(name)
        else:
            seen[key] = name
    return removed


def _drop_tied_aliases_hook(models: list[Any], weights: list[dict[str, Any]], output_dir: str) -> None:
    """``register_save_state_pre_hook`` signature: runs on the state dicts ``save_state`` is about to write."""
    for state_dict in weights:
        removed = drop_tied_aliases(state_dict)
        if removed:
            logger.debug("save_state: tied weights stored once, not under %s", removed)


def save_training_state(accelerator: Any, output_dir: str, step: int, epoch: int, keep: int) -> Path:
    """``accelerator.save_state`` into ``state/step_{step}`` plus the counters needed to resume at that step.

    Tied weights are written once, without accelerate's "Removed shared tensor" warning (`drop_tied_aliases`).
    """
    folder = Path(output_dir) / STATE_DIR / f"step_{step}"
    handle = accelerator.register_save_state_pre_hook(_drop_tied_aliases_hook)
    try:
        accelerator.save_state(str(folder))
    finally:
        handle.remove()
    if accelerator.is_main_process:
        (folder / TRAINING_STATE_FILE).write_text(json.dumps({"completed_steps": step, "epoch": epoch}))
        if keep > 0:
            for old in list_states(output_dir)[:-keep]:
                shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return folder


def list_states(output_dir: str) -> list[Path]:
    """The ``state/step_*`` folders, oldest first."""
    root = Path(output_dir) / STATE_DIR
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if re.fullmatch(r"step_\d+", p.name) and (p / TRAINING_STATE_FILE).exists()]
    return sorted(found, key=lambda p: int(p.name.split("_")[1]))


def resolve_resume_dir(resume: str | None, output_dir: str) -> Path | None:
    """The state folder to resume from: an explicit folder, the newest one (``"latest"``), or None."""
    if not resume:
        return None
    if resume == "latest":
        states = list_states(output_dir)
        if not states:
            logger.warning("--resume_from_checkpoint latest: no state in %s, starting fresh", output_dir)
            return None
        return states[-1]
    path = Path(resume)
    if not (path / TRAINING_STATE_FILE).exists():
        raise FileNotFoundError(f"{path} is not a state folder written by these scripts (no {TRAINING_STATE_FILE})")
    return path


def load_training_state(accelerator: Any, folder: Path) -> int:
    """Restore model/optimizer/scheduler/RNG and return the number of completed optimizer steps."""
    accelerator.load_state(str(folder))
    return int(json.loads((folder / TRAINING_STATE_FILE).read_text())["completed_steps"])


# --------------------------------------------------------------------------------------------------------- reward
def load_reward_fn(spec: str, weights: list[float]) -> RewardFn:
    """``"k8s"`` -> `k8s_scoring.reward_fn` with the given weights; ``"pkg.module:function"`` -> that function."""
    if spec == "k8s":
        from k8s_scoring import reward_fn

        names = ("codebleu", "bp", "security", "complexity")
        weight_map = dict(zip(names, weights))

        def k8s_reward(completions: list[str], references: list[str]) -> list[float]:
            return reward_fn(completions, references, weight_map)

        return k8s_reward
    module_name, sep, attr = spec.partition(":")
    if not sep:
        raise ValueError(f"--reward_fn must be 'k8s' or 'module:function', got {spec!r}")
    return getattr(importlib.import_module(module_name), attr)


# -------------------------------------------------------------------------------------------------------- metrics
class MetricsLog:
    """Every logged metrics dict as one JSON line in ``output_dir/metrics.jsonl`` (main process only), next to the
    TensorBoard events, so that curves can be re-plotted or checked without TensorBoard.

    Each record also has ``elapsed_s``: wall-clock seconds of training since the log was opened, continued from the
    last record of an existing file (a resumed run), so learning curves can be drawn against training time.
    """

    def __init__(self, path: str | os.PathLike, enabled: bool) -> None:
        self.path = Path(path)
        self.enabled = enabled
        self.offset = 0.0
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                previous = [r for r in read_metrics(self.path) if "elapsed_s" in r]
                self.offset = float(previous[-1]["elapsed_s"]) if previous else 0.0
        self.start = time.perf_counter()

    def write(self, step: int, metrics: dict[str, float]) -> None:
        if self.enabled:
            elapsed = round(self.offset + time.perf_counter() - self.start, 2)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"step": step, **metrics, "elapsed_s": elapsed}) + "\n")


def read_metrics(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The records written by `MetricsLog`."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
