# Copyright 2026 The dual-codet5 contributors. Licensed under the Apache License, Version 2.0.
"""DualCodeT5 configuration.

Self-contained (imports only `transformers`) so that it travels to the Hub as remote code next to
`modeling_dual_codet5.py`.
"""

from __future__ import annotations

from typing import Any

from transformers import PretrainedConfig

_FEED_FORWARD_ACTIVATIONS = ("relu", "gelu", "gelu_new", "silu", "gelu_pytorch_tanh", "quick_gelu")
_COPY_SOURCES = ("memory", "intent", "pattern")


class DualCodeT5Config(PretrainedConfig):
    r"""
    Configuration of a [`DualCodeT5ForConditionalGeneration`]: a T5 encoder-decoder with a second (pattern) encoder
    whose states are fused into the intent encoder's states by multi-head attention, or (`single_encoder=True`) the
    like-for-like single-encoder baseline of the same class.

    The defaults give the CodeT5-base shape (`Salesforce/codet5-base`: 768 wide, 12 + 12 + 12 layers, 12 heads,
    vocabulary 32,100).

    Args:
        vocab_size (`int`, *optional*, defaults to 32100):
            Size of the token vocabulary shared by both encoders and the decoder.
        d_model (`int`, *optional*, defaults to 768):
            Width of every stack and of the fusion layer.
        d_kv (`int`, *optional*, defaults to 64):
            Size of one attention head's key/value projection in the T5 stacks.
        d_ff (`int`, *optional*, defaults to 3072):
            Inner size of the T5 feed-forward layers.
        num_layers (`int`, *optional*, defaults to 12):
            Depth of the intent encoder.
        num_decoder_layers (`int`, *optional*):
            Depth of the decoder; defaults to `num_layers`.
        pattern_num_layers (`int`, *optional*):
            Depth of the pattern encoder; defaults to `num_layers`. Must equal `num_layers` when `tie_encoders`.
        num_heads (`int`, *optional*, defaults to 12):
            Attention heads of the T5 stacks.
        relative_attention_num_buckets (`int`, *optional*, defaults to 32):
            Buckets of T5's relative position bias.
        relative_attention_max_distance (`int`, *optional*, defaults to 128):
            Largest distance told apart by the relative position bias.
        dropout_rate (`float`, *optional*, defaults to 0.1):
            Dropout probability inside the T5 stacks.
        layer_norm_epsilon (`float`, *optional*, defaults to 1e-6):
            Epsilon of every layer norm.
        initializer_factor (`float`, *optional*, defaults to 1.0):
            T5's initialisation scale (1.0 for normal use; tests may change it).
        feed_forward_proj (`str`, *optional*, defaults to `"relu"`):
            `"relu"` (T5 v1.0, CodeT5) or `"gated-gelu"` (T5 v1.1): `"{act}"` or `"gated-{act}"`.
        fusion_num_heads (`int`, *optional*, defaults to 8):
            Heads of the fusion attention (intent states attend to pattern states); must divide `d_model`.
        fusion_dropout (`float`, *optional*, defaults to 0.1):
            Dropout on the fusion attention weights and on its residual branch.
        tie_encoders (`bool`, *optional*, defaults to `False`):
            Whether the intent and pattern encoders share one set of weights (the seed design keeps them separate).
        copy_mechanism (`bool`, *optional*, defaults to `False`):
            Pointer-generator output (See et al. 2017, arXiv 1704.04368): a gate `p_gen` mixes the LM head's
            distribution with a copy distribution from a dedicated attention head over the encoder memory, scattered
            onto the memory tokens' ids. The model then returns normalised log-probabilities as `logits`.
        copy_from (`str`, *optional*, defaults to `"memory"`):
            Which memory tokens can be copied: `"memory"` (intent and pattern tokens, the whole memory the decoder
            cross-attends to), `"intent"` or `"pattern"`. Only used with `copy_mechanism=True`.
        single_encoder (`bool`, *optional*, defaults to `False`):
            The single-encoder baseline: one encoder (`num_layers` deep) reads intent and pattern as ONE sequence,
            `format_single_encoder_input(intent, pattern)` of `k8s_data` (intent, the separator line
            `"\n### Pattern:\n"`, then the pattern), passed as `input_ids`; `pattern_input_ids` are refused. No
            pattern encoder and no fusion are built (`pattern_num_layers`, `fusion_num_heads` and `fusion_dropout`
            are then unused; `tie_encoders` must be `False`), so the memory is the encoder output itself, and a copy
            model copies from every input token (`copy_from` must be `"memory"`). Code that loads a checkpoint reads
            this field to format the input.
        tie_word_embeddings (`bool`, *optional*, defaults to `True`):
            Whether the LM head shares the token embedding. As in T5 v1.0 / CodeT5, a tied head also rescales the
            decoder output by `d_model ** -0.5`; T5 v1.1-style checkpoints set it to `False`.
        use_cache (`bool`, *optional*, defaults to `True`):
            Whether the decoder returns its key/value cache.
        pad_token_id (`int`, *optional*, defaults to 0):
            Padding token (CodeT5: `<pad>` = 0).
        bos_token_id (`int`, *optional*, defaults to 1):
            Beginning-of-sequence token (CodeT5: `<s>` = 1).
        eos_token_id (`int`, *optional*, defaults to 2):
            End-of-sequence token (CodeT5: `</s>` = 2).
        decoder_start_token_id (`int`, *optional*, defaults to 0):
            First decoder token; T5 starts decoding from the padding token.
    """

    model_type = "dual_codet5"
    # `num_hidden_layers` sizes the KV caches that `generate` creates (`DynamicCache(config)`,
    # `StaticCache(config)`), so it must be the DECODER depth (T5 maps it to the encoder depth, which crashes
    # generate when the decoder is deeper; docs/hf_notes.md gotcha 8).
    attribute_map = {
        "hidden_size": "d_model",
        "num_attention_heads": "num_heads",
        "num_hidden_layers": "num_decoder_layers",
        "head_dim": "d_kv",
    }
    keys_to_ignore_at_inference = ["cache"]

    def __init__(
        self,
        vocab_size: int = 32100,
        d_model: int = 768,
        d_kv: int = 64,
        d_ff: int = 3072,
        num_layers: int = 12,
        num_decoder_layers: int | None = None,
        pattern_num_layers: int | None = None,
        num_heads: int = 12,
        relative_attention_num_buckets: int = 32,
        relative_attention_max_distance: int = 128,
        dropout_rate: float = 0.1,
        layer_norm_epsilon: float = 1e-6,
        initializer_factor: float = 1.0,
        feed_forward_proj: str = "relu",
        fusion_num_heads: int = 8,
        fusion_dropout: float = 0.1,
        tie_encoders: bool = False,
        copy_mechanism: bool = False,
        copy_from: str = "memory",
        single_encoder: bool = False,
        tie_word_embeddings: bool = True,
        use_cache: bool = True,
        pad_token_id: int | None = 0,
        bos_token_id: int | None = 1,
        eos_token_id: int | list[int] | None = 2,
        decoder_start_token_id: int | None = 0,
        is_encoder_decoder: bool = True,
        **kwargs: Any,
    ) -> None:
        self.vocab_size = vocab_size
        self.d_model = d_model
        self.d_kv = d_kv
        self.d_ff = d_ff
        self.num_layers = num_layers
        self.num_decoder_layers = num_decoder_layers if num_decoder_layers is not None else num_layers
        self.pattern_num_layers = pattern_num_layers if pattern_num_layers is not None else num_layers
        self.num_heads = num_heads
        self.relative_attention_num_buckets = relative_attention_num_buckets
        self.relative_attention_max_distance = relative_attention_max_distance
        self.dropout_rate = dropout_rate
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_factor = initializer_factor
        self.feed_forward_proj = feed_forward_proj
        self.fusion_num_heads = fusion_num_heads
        self.fusion_dropout = fusion_dropout
        self.tie_encoders = tie_encoders
        self.copy_mechanism = copy_mechanism
        self.copy_from = copy_from
        self.single_encoder = single_encoder
        self.tie_word_embeddings = tie_word_embeddings
        self.use_cache = use_cache
        self.pad_token_id = pad_token_id
        self.bos_token_id = bos_token_id
        self.eos_token_id = eos_token_id
        self.decoder_start_token_id = decoder_start_token_id
        self._validate()
        super().__init__(is_encoder_decoder=is_encoder_decoder, **kwargs)

    def _validate(self) -> None:
        """Raise a `TypeError`/`ValueError` that names the field and what was expected."""
        positive_ints = (
            "vocab_size", "d_model", "d_kv", "d_ff", "num_layers", "num_decoder_layers", "pattern_num_layers",
            "num_heads", "relative_attention_num_buckets", "relative_attention_max_distance", "fusion_num_heads",
        )  # fmt: skip
        for name in positive_ints:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"DualCodeT5Config.{name} must be an int, got {type(value).__name__} {value!r}")
            if value < 1:
                raise ValueError(f"DualCodeT5Config.{name} must be >= 1, got {value}")
        for name in ("dropout_rate", "fusion_dropout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise ValueError(f"DualCodeT5Config.{name} must be a probability in [0, 1), got {value!r}")
        for name in ("layer_norm_epsilon", "initializer_factor"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"DualCodeT5Config.{name} must be a positive number, got {value!r}")
        for name in ("tie_encoders", "tie_word_embeddings", "use_cache", "copy_mechanism", "single_encoder"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"DualCodeT5Config.{name} must be a bool, got {getattr(self, name)!r}")
        if self.copy_from not in _COPY_SOURCES:
            raise ValueError(f"DualCodeT5Config.copy_from must be one of {_COPY_SOURCES}, got {self.copy_from!r}")
        if self.d_model % self.fusion_num_heads != 0:
            raise ValueError(
                f"DualCodeT5Config.fusion_num_heads ({self.fusion_num_heads}) must divide d_model ({self.d_model}); "
                f"pick one of {[h for h in range(1, self.d_model + 1) if self.d_model % h == 0 and h <= 64]}"
            )
        parts = self.feed_forward_proj.split("-") if isinstance(self.feed_forward_proj, str) else []
        valid_form = len(parts) == 1 or (len(parts) == 2 and parts[0] == "gated")
        if not parts or not valid_form or parts[-1] not in _FEED_FORWARD_ACTIVATIONS:
            raise ValueError(
                f"DualCodeT5Config.feed_forward_proj must be '{{act}}' or 'gated-{{act}}' with act in "
                f"{_FEED_FORWARD_ACTIVATIONS}, got {self.feed_forward_proj!r}"
            )
        if self.single_encoder and self.tie_encoders:
            raise ValueError(
                "DualCodeT5Config.single_encoder=True builds no pattern encoder to tie; set tie_encoders=False"
            )
        if self.single_encoder and self.copy_from != "memory":
            raise ValueError(
                "DualCodeT5Config.single_encoder=True reads intent and pattern as one sequence, so a copy model can "
                f"only copy from all of it: copy_from must be 'memory', got {self.copy_from!r}"
            )
        if self.tie_encoders and self.pattern_num_layers != self.num_layers:
            raise ValueError(
                "DualCodeT5Config.tie_encoders=True shares one encoder, so pattern_num_layers "
                f"({self.pattern_num_layers}) must equal num_layers ({self.num_layers}) or be left unset"
            )
        for name in ("pad_token_id", "bos_token_id", "decoder_start_token_id"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise TypeError(f"DualCodeT5Config.{name} must be an int or None, got {value!r}")
            if value is not None and not 0 <= value < self.vocab_size:
                raise ValueError(f"DualCodeT5Config.{name} must lie in [0, vocab_size={self.vocab_size}), got {value}")
        eos = self.eos_token_id if isinstance(self.eos_token_id, list) else [self.eos_token_id]
        for value in eos:
            if value is not None and (not isinstance(value, int) or not 0 <= value < self.vocab_size):
                raise ValueError(
                    f"DualCodeT5Config.eos_token_id must be int(s) in [0, vocab_size={self.vocab_size}), "
                    f"got {self.eos_token_id!r}"
                )
        if self.pad_token_id is None or self.decoder_start_token_id is None:
            raise ValueError(
                "DualCodeT5Config needs pad_token_id and decoder_start_token_id (labels are shifted right with them)"
            )


__all__ = ["DualCodeT5Config"]
