"""Argument dataclasses of ``train_sft.py`` and ``train_rl.py`` (parsed with ``transformers.HfArgumentParser``).

The help text lives only in ``field(metadata={"help": ...})``. Defaults follow the seed recipe (SFT: 3 epochs, lr 5e-5,
100 warm-up steps, weight decay 0.01, clip 1.0, AdamW, batch 4; RL: 2 epochs, lr 1e-5, gamma 0.99, k 4, beta 0.05,
reward weights 0.3/0.4/0.2/0.1).

A run is configured by a YAML file, flags, or both: ``python train_sft.py configs/sft_tiny.yaml --num_train_epochs 1``
reads the file first and lets the flags override it (see `parse_config`).
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from typing import Any

import yaml

from k8s_data.retrieval_config import RetrievalConfig

try:
    _YAML_LOADER = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _YAML_LOADER = yaml.SafeLoader


_RETRIEVAL_DEFAULTS = RetrievalConfig()
_RETRIEVAL_HELP = {f.name: f.metadata["help"] for f in dataclasses.fields(RetrievalConfig)}
PRESET_NAMES = ("tiny", "small", "base")
MODEL_TYPES = ("dual", "single", "baseline")
PATTERN_MODES = ("retrieved", "oracle", "none")
#: what train_sft.py trains on: the task itself, or T5-style denoising of the train YAML (pre-training)
OBJECTIVES = ("sft", "span_corruption")
MIXED_PRECISION = ("no", "fp16", "bf16")


@dataclass
class ModelArguments:
    """Which model to train and where its weights come from."""

    model_type: str | None = field(
        default=None,
        metadata={
            "help": "'dual' = the dual-encoder DualCodeT5ForConditionalGeneration; 'single' = the like-for-like "
            "single-encoder baseline: the same class and flags (--copy_mechanism included) with one encoder, as "
            "deep as both dual encoders together, reading intent + separator + pattern as one sequence "
            "(config single_encoder: true); 'baseline' = a plain T5ForConditionalGeneration reading the same "
            "sequence (reference row, cannot copy). Default: the type of the --init_from checkpoint when these "
            "scripts saved it, else 'dual'."
        },
    )
    init_from: str = field(
        default="small",
        metadata={
            "help": "A preset name (tiny | small | base: from scratch, tokenizer trained on the corpus), a CodeT5 / "
            "CodeT5+ checkpoint or local folder (dual: DualCodeT5ForConditionalGeneration.from_codet5; baseline: "
            "T5ForConditionalGeneration.from_pretrained), or a folder saved by these scripts. For train_rl.py: "
            "the SFT checkpoint to start from (it is also the frozen KL reference)."
        },
    )
    config_overrides: str | None = field(
        default=None,
        metadata={
            "help": "Comma-separated config overrides applied to the preset or CodeT5 config, e.g. "
            "'num_layers=2,d_model=128,dropout_rate=0.0'. Values are parsed as YAML scalars."
        },
    )
    copy_mechanism: bool | None = field(
        default=None,
        metadata={
            "help": "true: a pointer-generator DualCodeT5 that can copy intent and pattern tokens (docs/copy.md); "
            "false: no copy head. Default: what the preset / checkpoint config says (presets: false). Ignored by "
            "--model_type baseline (plain T5 cannot copy); --model_type single copies like the dual model."
        },
    )
    tokenizer_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "Tokenizer folder. Default: the one inside --init_from when it is a folder or checkpoint; for a "
            "preset, a tokenizer is trained on the training split and saved with the model."
        },
    )
    tokenizer_vocab_size: int = field(
        default=8000, metadata={"help": "Vocabulary size when a tokenizer is trained for a preset."}
    )

    def __post_init__(self) -> None:
        if self.model_type not in (None, *MODEL_TYPES):
            raise ValueError(f"--model_type must be one of {MODEL_TYPES}, got {self.model_type!r}")

    @property
    def is_preset(self) -> bool:
        return self.init_from in PRESET_NAMES

    def overrides(self) -> dict[str, Any]:
        """``config_overrides`` as a dict (``"a=1,b=x"`` -> ``{"a": 1, "b": "x"}``), plus ``copy_mechanism`` when set
        (the flag wins over the same key in ``config_overrides``)."""
        out: dict[str, Any] = {}
        for item in self.config_overrides.split(",") if self.config_overrides else []:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"--config_overrides item {item!r} is not of the form key=value")
            out[key.strip()] = yaml.load(value.strip(), Loader=_YAML_LOADER)
        if self.copy_mechanism is not None:
            out["copy_mechanism"] = self.copy_mechanism
        return out


@dataclass
class DataArguments:
    """Which examples to train on and how long they may be."""

    train_file: str | None = field(
        default=None,
        metadata={
            "help": "JSON/JSONL file of {intent, yaml[, k8s_pattern]} records (the seed's train_data.json works). "
            "Default: the bundled corpus through k8s_data.load_k8s_intents."
        },
    )
    validation_file: str | None = field(
        default=None, metadata={"help": "Like --train_file, for the per-epoch evaluation (optional)."}
    )
    pattern_mode: str = field(
        default="retrieved",
        metadata={
            "help": "Where the pattern input comes from: 'retrieved' (from the intent, via the train-split pattern "
            "bank), 'oracle' (extracted from the target: upper bound only), 'none' (empty pattern)."
        },
    )
    pattern_format: str = field(
        default=_RETRIEVAL_DEFAULTS.pattern_format,
        metadata={"help": _RETRIEVAL_HELP["pattern_format"] + " Exemplars are long: raise --max_pattern_length."},
    )
    exemplar_k: int = field(default=_RETRIEVAL_DEFAULTS.exemplar_k, metadata={"help": _RETRIEVAL_HELP["exemplar_k"]})
    kind_aware: bool = field(default=_RETRIEVAL_DEFAULTS.kind_aware, metadata={"help": _RETRIEVAL_HELP["kind_aware"]})
    compose: bool = field(default=_RETRIEVAL_DEFAULTS.compose, metadata={"help": _RETRIEVAL_HELP["compose"]})
    adapt_exemplar: bool = field(
        default=_RETRIEVAL_DEFAULTS.adapt_exemplar, metadata={"help": _RETRIEVAL_HELP["adapt_exemplar"]}
    )
    train_sample_top: int = field(
        default=_RETRIEVAL_DEFAULTS.train_sample_top, metadata={"help": _RETRIEVAL_HELP["train_sample_top"]}
    )
    exemplar_mask_prob: float = field(
        default=_RETRIEVAL_DEFAULTS.exemplar_mask_prob, metadata={"help": _RETRIEVAL_HELP["exemplar_mask_prob"]}
    )
    max_source_length: int = field(
        default=128,
        metadata={"help": "Max intent tokens (single / baseline: this + max_pattern_length for intent + pattern)."},
    )
    max_pattern_length: int = field(default=256, metadata={"help": "Max pattern tokens (dual model)."})
    max_target_length: int = field(default=512, metadata={"help": "Max target YAML tokens (incl. </s>)."})
    long_targets: str = field(
        default="truncate",
        metadata={
            "help": "Training targets longer than --max_target_length: 'truncate' (cut; the model learns to stop "
            "mid-manifest) or 'drop' (leave the example out). The share is logged either way."
        },
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "Truncate the training set (debug/demo)."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Truncate the validation set."})
    group_by_length: bool = field(
        default=True,
        metadata={"help": "Length-grouped batches (megabatches sorted by length) to cut padding; else random order."},
    )
    data_seed: int = field(default=0, metadata={"help": "Seed of the corpus split / intent synthesis."})
    objective: str = field(
        default="sft",
        metadata={
            "help": "'sft': (intent, pattern) -> YAML; 'span_corruption': T5-style denoising of the train split's "
            "YAML (dual_codet5.span_corruption), a pre-training stage whose final/ folder a later SFT run starts "
            "from (--init_from). Patterns are not built for it; the YAML is cut to --max_pattern_length tokens."
        },
    )
    noise_density: float = field(
        default=0.15, metadata={"help": "span_corruption: share of each YAML's tokens that are corrupted (T5: 0.15)."}
    )
    mean_noise_span_length: float = field(
        default=3.0, metadata={"help": "span_corruption: mean length of a corrupted span in tokens (T5: 3)."}
    )

    def __post_init__(self) -> None:
        if self.pattern_mode not in PATTERN_MODES:
            raise ValueError(f"--pattern_mode must be one of {PATTERN_MODES}, got {self.pattern_mode!r}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"--objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if not 0.0 < self.noise_density < 1.0 or self.mean_noise_span_length < 1.0:
            raise ValueError("--noise_density must be in (0, 1) and --mean_noise_span_length >= 1")
        if self.long_targets not in ("truncate", "drop"):
            raise ValueError(f"--long_targets must be 'truncate' or 'drop', got {self.long_targets!r}")
        self.retrieval_config()  # raises a ValueError naming the bad retrieval option
        for name in ("max_source_length", "max_pattern_length", "max_target_length"):
            if getattr(self, name) < 2:
                raise ValueError(f"--{name} must be >= 2 (room for one token and </s>)")


    def retrieval_config(self) -> RetrievalConfig:
        """The `k8s_data.RetrievalConfig` of these arguments (saved beside every checkpoint)."""
        return RetrievalConfig(**{f.name: getattr(self, f.name) for f in dataclasses.fields(RetrievalConfig)})


@dataclass
class RunArguments:
    """Optimisation, precision, checkpointing and logging shared by both stages."""

    output_dir: str = field(default="runs/default", metadata={"help": "Where checkpoints, logs and arguments go."})
    num_train_epochs: int = field(default=3, metadata={"help": "Training epochs."})
    max_steps: int = field(
        default=-1, metadata={"help": "If > 0, stop after this many optimizer steps (overrides epochs)."}
    )
    learning_rate: float = field(default=5e-5, metadata={"help": "Peak AdamW learning rate."})
    warmup_steps: int = field(default=100, metadata={"help": "Linear warm-up steps (optimizer steps)."})
    lr_scheduler_type: str = field(
        default="linear", metadata={"help": "transformers.get_scheduler name: linear, cosine, constant_with_warmup."}
    )
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay (not on biases / norms)."})
    adam_beta1: float = field(default=0.9, metadata={"help": "AdamW beta1."})
    adam_beta2: float = field(default=0.999, metadata={"help": "AdamW beta2."})
    adam_epsilon: float = field(default=1e-8, metadata={"help": "AdamW epsilon."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm (0 = off)."})
    per_device_train_batch_size: int = field(
        default=4, metadata={"help": "Batch size per device (train_rl.py: prompts per device; k samples each)."}
    )
    per_device_eval_batch_size: int = field(default=8, metadata={"help": "Evaluation batch size per device."})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "Batches accumulated per optimizer step."})
    mixed_precision: str | None = field(
        default=None,
        metadata={
            "help": "no | fp16 | bf16. Default: what `accelerate config` / the launcher says. bf16 on Ampere and "
            "Hopper; fp16 on a T4 (see --fp16_feed_forward_fp32)."
        },
    )
    seed: int = field(default=42, metadata={"help": "Seed for initialisation, shuffling and sampling."})
    logging_steps: int = field(default=10, metadata={"help": "Log every N optimizer steps."})
    checkpointing_steps: int = field(
        default=0, metadata={"help": "Also save_state every N optimizer steps (0 = only at epoch ends)."}
    )
    resume_from_checkpoint: str | None = field(
        default=None,
        metadata={"help": "A state folder written by save_state (output_dir/state/...), or 'latest'."},
    )
    torch_compile: bool = field(default=False, metadata={"help": "torch.compile the model."})
    fp16_feed_forward_fp32: bool = field(
        default=True,
        metadata={
            "help": "With fp16 mixed precision (a T4), run every T5 feed-forward output projection (wo) in fp32 so "
            "it cannot overflow (T5's known fp16 problem); no effect with bf16 or fp32."
        },
    )
    activation_checkpointing: bool = field(
        default=False, metadata={"help": "Recompute activations in backward to save memory."}
    )
    report_to: str = field(default="tensorboard", metadata={"help": "Accelerate tracker: tensorboard | none."})
    push_to_hub: bool = field(default=False, metadata={"help": "Upload the final checkpoint to the Hub."})
    hub_model_id: str | None = field(default=None, metadata={"help": "Hub repository id, e.g. user/dual-codet5."})
    hub_private: bool = field(default=False, metadata={"help": "Create the Hub repository as private."})
    save_total_states: int = field(
        default=2, metadata={"help": "Keep this many newest save_state folders (0 = keep all)."}
    )

    def __post_init__(self) -> None:
        if self.mixed_precision is not None and self.mixed_precision not in MIXED_PRECISION:
            raise ValueError(f"--mixed_precision must be one of {MIXED_PRECISION}, got {self.mixed_precision!r}")
        if self.push_to_hub and not self.hub_model_id:
            raise ValueError("--push_to_hub needs --hub_model_id (e.g. your-user/dual-codet5-k8s)")
        if self.per_device_train_batch_size < 1 or self.gradient_accumulation_steps < 1:
            raise ValueError("batch size and gradient accumulation steps must be >= 1")
        if self.report_to not in ("tensorboard", "none"):
            raise ValueError(f"--report_to must be tensorboard or none, got {self.report_to!r}")


@dataclass
class SFTArguments(RunArguments):
    """Stage 1 (supervised fine-tuning); the seed's defaults."""

    label_smoothing: float = field(default=0.0, metadata={"help": "Label smoothing of the cross-entropy."})
    save_model_steps: int = field(
        default=0,
        metadata={
            "help": "Also save a model folder stage1_step{N} every N optimizer steps (points of a learning curve, "
            "`python -m dual_codet5.learning_curve`); 0: model folders at epoch ends only."
        },
    )


@dataclass
class RLArguments(RunArguments):
    """Stage 2 (REINFORCE with a leave-one-out baseline and a KL penalty to the SFT model); the seed's defaults."""

    num_train_epochs: int = field(default=2, metadata={"help": "Passes over the training intents."})
    learning_rate: float = field(default=1e-5, metadata={"help": "Peak AdamW learning rate."})
    warmup_steps: int = field(default=0, metadata={"help": "Linear warm-up steps."})
    lr_scheduler_type: str = field(default="constant_with_warmup", metadata={"help": "Scheduler name."})
    num_samples: int = field(default=4, metadata={"help": "k: samples per intent (>= 2 for the RLOO baseline)."})
    gamma: float = field(
        default=0.99,
        metadata={"help": "Discount of the terminal reward over tokens (the seed's 0.99); 1.0 = sequence REINFORCE."},
    )
    kl_beta: float = field(default=0.05, metadata={"help": "beta: per-token KL-to-SFT penalty in the reward."})
    temperature: float = field(
        default=1.0,
        metadata={"help": "Sampling temperature (> 0); the policy gradient and the KL use the same tempered policy."},
    )
    top_k: int = field(default=0, metadata={"help": "Top-k sampling (0 = off)."})
    top_p: float = field(default=1.0, metadata={"help": "Nucleus sampling (1.0 = off)."})
    max_new_tokens: int = field(default=512, metadata={"help": "Max sampled completion length."})
    lookup_bonus: float = field(
        default=0.0,
        metadata={
            "help": "Exemplar lookup while sampling (dual_codet5.lookup; exemplar patterns only): the policy is the "
            "model with the lookup, the decoding users get, and its log-probs (and the reference's) include it. "
            "Samples stay close to the retrieved manifest, so groups differ in reward. 0 = the model alone."
        },
    )
    reward_weights: list[float] = field(
        default_factory=lambda: [0.3, 0.4, 0.2, 0.1],
        metadata={"help": "Weights of CodeBLEU, best practices, security, complexity in the reward."},
    )
    reward_fn: str = field(
        default="k8s",
        metadata={
            "help": "'k8s' = k8s_scoring.reward_fn with --reward_weights; or 'module:function' taking "
            "(completions, references) and returning a list of floats (toy rewards for tests)."
        },
    )
    num_sample_logs: int = field(default=4, metadata={"help": "Completions written to the samples table per log."})
    eval_max_new_tokens: int | None = field(
        default=None, metadata={"help": "Greedy-eval completion length (default --max_new_tokens)."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_samples < 2:
            raise ValueError("--num_samples must be >= 2: the leave-one-out baseline needs other samples")
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"--gamma must be in (0, 1], got {self.gamma}")
        if self.kl_beta < 0:
            raise ValueError("--kl_beta must be >= 0")
        if not self.temperature > 0:
            raise ValueError(f"--temperature must be > 0, got {self.temperature}")
        if self.lookup_bonus < 0:
            raise ValueError(f"--lookup_bonus must be >= 0, got {self.lookup_bonus}")
        if len(self.reward_weights) != 4:
            raise ValueError("--reward_weights takes 4 numbers: codebleu bp security complexity")


def yaml_to_flags(config: dict[str, Any]) -> list[str]:
    """Turn a YAML mapping into ``--key value`` flags that HfArgumentParser understands."""
    flags: list[str] = []
    for key, value in config.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            flags += [f"--{key}", *(str(v) for v in value)]
        else:
            flags += [f"--{key}", str(value)]
    return flags


def parse_config(dataclass_types: tuple[type, ...], argv: list[str] | None = None) -> tuple[Any, ...]:
    """Parse ``[config.yaml] [--flag value ...]`` into the given dataclasses; flags override the YAML file.

    Unknown keys (in the file or as flags) raise an error that names them.
    """
    from transformers import HfArgumentParser

    argv = list(sys.argv[1:] if argv is None else argv)
    flags: list[str] = []
    if argv and argv[0].endswith((".yaml", ".yml")):
        with open(argv[0], encoding="utf-8") as fh:
            config = yaml.load(fh, Loader=_YAML_LOADER) or {}
        if not isinstance(config, dict):
            raise ValueError(f"{argv[0]} must hold a mapping of argument names to values")
        flags = yaml_to_flags(config)
        argv = argv[1:]
    parser = HfArgumentParser(dataclass_types)
    parsed = parser.parse_args_into_dataclasses(args=flags + argv, look_for_args_file=False)
    return tuple(parsed)


def resolved_arguments(*parsed: Any) -> dict[str, Any]:
    """All dataclass fields of the parsed arguments, merged in one flat dict (saved beside every checkpoint)."""
    out: dict[str, Any] = {}
    for obj in parsed:
        out.update(dataclasses.asdict(obj))
    return out
