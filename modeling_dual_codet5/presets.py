"""Named model sizes, the matching single-encoder baseline configs, and a parameter counter.

Print the real sizes with `python -m modeling_dual_codet5.presets` (builds each preset on the meta device).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import torch
from transformers import T5Config

from .configuration_dual_codet5 import DualCodeT5Config

# Presets as data: each is a set of DualCodeT5Config fields (anything not listed keeps the config default).
PRESETS: dict[str, dict[str, Any]] = {
    # tests: the transformers T5ModelTester shape (vocab 99, d_model 32, 2 layers, 4 heads)
    "tiny": {
        "vocab_size": 99,
        "d_model": 32,
        "d_kv": 8,
        "d_ff": 64,
        "num_layers": 2,
        "num_decoder_layers": 2,
        "pattern_num_layers": 2,
        "num_heads": 4,
        "fusion_num_heads": 4,
        "relative_attention_num_buckets": 8,
        "relative_attention_max_distance": 32,
    },
    # trainable from scratch on one GPU in minutes: ~46 M parameters with the CodeT5 vocabulary
    "small": {
        "vocab_size": 32100,
        "d_model": 512,
        "d_kv": 64,
        "d_ff": 2048,
        "num_layers": 4,
        "num_decoder_layers": 4,
        "pattern_num_layers": 2,
        "num_heads": 8,
        "fusion_num_heads": 8,
    },
    # the seed's CodeT5-base shape (Salesforce/codet5-base): 768 wide, 12 layers per stack, 12 heads
    "base": {
        "vocab_size": 32100,
        "d_model": 768,
        "d_kv": 64,
        "d_ff": 3072,
        "num_layers": 12,
        "num_decoder_layers": 12,
        "pattern_num_layers": 12,
        "num_heads": 12,
        "fusion_num_heads": 8,
    },
}


def preset_config(name: str, **overrides: Any) -> DualCodeT5Config:
    """A [`DualCodeT5Config`] for a named size.

    Args:
        name (`str`): `"tiny"`, `"small"` or `"base"`.
        overrides: config fields to change (e.g. `vocab_size=8000`, `dropout_rate=0.0`).
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; expected one of {sorted(PRESETS)}")
    return DualCodeT5Config(**{**PRESETS[name], **overrides})


def baseline_t5_config(dual_config: DualCodeT5Config) -> T5Config:
    """The single-encoder baseline: a `T5Config` with the same vocabulary, width, intent-encoder and decoder depth.

    The baseline reads intent and pattern concatenated in one sequence (`k8s_data.format_single_encoder_input`),
    so it has no pattern encoder and no fusion; everything it does have matches the dual model.
    """
    return T5Config(
        vocab_size=dual_config.vocab_size,
        d_model=dual_config.d_model,
        d_kv=dual_config.d_kv,
        d_ff=dual_config.d_ff,
        num_layers=dual_config.num_layers,
        num_decoder_layers=dual_config.num_decoder_layers,
        num_heads=dual_config.num_heads,
        relative_attention_num_buckets=dual_config.relative_attention_num_buckets,
        relative_attention_max_distance=dual_config.relative_attention_max_distance,
        dropout_rate=dual_config.dropout_rate,
        layer_norm_epsilon=dual_config.layer_norm_epsilon,
        initializer_factor=dual_config.initializer_factor,
        feed_forward_proj=dual_config.feed_forward_proj,
        tie_word_embeddings=dual_config.tie_word_embeddings,
        pad_token_id=dual_config.pad_token_id,
        bos_token_id=dual_config.bos_token_id,
        eos_token_id=dual_config.eos_token_id,
        decoder_start_token_id=dual_config.decoder_start_token_id,
    )


def single_encoder_config(dual_config: DualCodeT5Config) -> DualCodeT5Config:
    """The like-for-like single-encoder baseline of a dual config: the same class and flags (copy included), one
    encoder as deep as the dual model's two encoders together, no fusion (`DualCodeT5Config.single_encoder`).

    Both models then hold about as many parameters (the single one lacks the fusion layer and the second stack's
    relative position bias and final norm); a dual config with `tie_encoders` has one encoder, so its single
    counterpart keeps `num_layers`.
    """
    if dual_config.single_encoder:
        return dual_config
    depth = dual_config.num_layers + (0 if dual_config.tie_encoders else dual_config.pattern_num_layers)
    fields = {**dual_config.to_dict(), "num_layers": depth, "single_encoder": True, "tie_encoders": False}
    return DualCodeT5Config.from_dict(fields)


@dataclass(frozen=True)
class ParameterCount:
    """Unique parameters of a model, split by part (shared tensors counted once)."""

    total: int
    embedding: int
    intent_encoder: int
    pattern_encoder: int
    fusion: int
    decoder: int
    lm_head: int  # 0 when tied to the embedding
    copy: int = 0  # the pointer-generator head (copy_mechanism=True)


def count_parameters(model: torch.nn.Module) -> ParameterCount:
    """Count the unique parameters of a DualCodeT5 or T5 model (tied tensors once), by part."""
    seen: set[int] = set()
    parts = dict.fromkeys(
        ("embedding", "intent_encoder", "pattern_encoder", "fusion", "decoder", "lm_head", "copy"), 0
    )
    for name, param in model.named_parameters(remove_duplicate=False):
        if id(param) in seen:
            continue
        seen.add(id(param))
        if name.endswith("embed_tokens.weight") or name == "shared.weight":
            part = "embedding"
        elif name.startswith(("encoder.intent_encoder.", "encoder.block.", "encoder.final_layer_norm")):
            part = "intent_encoder"
        elif name.startswith("encoder.pattern_encoder."):
            part = "pattern_encoder"
        elif name.startswith("encoder.fusion."):
            part = "fusion"
        elif name.startswith("decoder."):
            part = "decoder"
        elif name.startswith("lm_head."):
            part = "lm_head"
        elif name.startswith("copy_head."):
            part = "copy"
        else:
            raise ValueError(f"count_parameters: no part for parameter {name!r}")
        parts[part] += param.numel()
    return ParameterCount(total=sum(parts.values()), **parts)


def main(argv: list[str] | None = None) -> None:
    """Print a Markdown table of the real parameter counts of every preset and its baseline."""
    from transformers import T5ForConditionalGeneration

    from .modeling_dual_codet5 import DualCodeT5ForConditionalGeneration

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--presets", nargs="*", default=list(PRESETS), help="presets to count")
    parser.add_argument("--copy_mechanism", action="store_true", help="count the pointer-generator variant")
    args = parser.parse_args(argv)
    print("| preset | model | total | embedding | intent enc | pattern enc | fusion | decoder | lm_head | copy |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.presets:
        config = preset_config(name, copy_mechanism=args.copy_mechanism)
        with torch.device("meta"):  # shapes only: no memory, no initialisation time
            models = {
                "dual": DualCodeT5ForConditionalGeneration(config),
                "single": DualCodeT5ForConditionalGeneration(single_encoder_config(config)),
                "T5 baseline": T5ForConditionalGeneration(baseline_t5_config(config)),
            }
        for label, model in models.items():
            c = count_parameters(model)
            cells = [c.total, c.embedding, c.intent_encoder, c.pattern_encoder, c.fusion, c.decoder, c.lm_head, c.copy]
            print(f"| {name} | {label} | " + " | ".join(f"{v:,}" for v in cells) + " |")


if __name__ == "__main__":
    main()
