# Copyright 2026 The dual-codet5 contributors. Licensed under the Apache License, Version 2.0.
"""PyTorch DualCodeT5: a T5 encoder-decoder with a second (pattern) encoder fused into the first by attention.

Self-contained (torch, transformers and the sibling configuration file) so that `save_pretrained` can ship it as
Hub remote code. The T5 blocks are reused from the installed transformers (`transformers.models.t5.modeling_t5`,
written against 5.24.0), not copied.

Data flow, shapes for a batch of `B` intents of length `Li` and patterns of length `Lp`:

```
input_ids (B, Li) ──► intent T5 encoder ──► h (B, Li, d) ─┐
                                                         ├─► fusion: LN(h + MHA(q=h, k=v=p)) ─► f (B, Li, d)
pattern_input_ids (B, Lp) ─► pattern T5 encoder ─► p (B, Lp, d)
memory = concat(f, p) (B, Li + Lp, d), memory mask = concat(attention_mask, pattern_attention_mask)
decoder (T5 stack, cross-attends to memory) ─► LM head ─► logits (B, T, vocab)
```

With `config.single_encoder` (the like-for-like single-encoder baseline) there is no pattern encoder and no fusion:
`input_ids` hold intent and pattern in one sequence (`k8s_data.format_single_encoder_input`) and the memory is the
intent encoder's output `h`, as in T5; the copy head, when there is one, copies from all of it.

With `config.copy_mechanism` (a pointer-generator, See et al. 2017, arXiv 1704.04368) a copy head attends from each
decoder state `s` over the memory (one dedicated bilinear head), gives a copy distribution over the memory positions,
scatters it onto those positions' token ids and mixes: `p = p_gen * P_vocab + (1 - p_gen) * P_copy` with
`p_gen = sigmoid(w . [s; context] + b)`. `logits` are then `log p` (normalised log-probabilities, float32), so every
`generate` mode, `compute_transition_scores` and `log_softmax(logits / T)` work unchanged. The memory's token ids
travel inside the encoder output (`copy_input_ids`), which `generate` expands for beams like the states.

`get_encoder()` returns a module that takes both inputs and returns the memory with its mask as one
`BaseModelOutput`, so `generate` (beam expansion, `num_return_sequences`, KV and static caches) needs no special path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import CrossEntropyLoss
from transformers import GenerationMixin, PreTrainedModel, T5Config
from transformers import initialization as init
from transformers.cache_utils import Cache
from transformers.modeling_outputs import BaseModelOutput, Seq2SeqLMOutput
from transformers.models.t5.modeling_t5 import T5Stack
from transformers.utils import logging
from transformers.utils.deprecation import deprecate_kwarg
from transformers.utils.generic import can_return_tuple

from .configuration_dual_codet5 import DualCodeT5Config

logger = logging.get_logger(__name__)


@dataclass
class DualCodeT5EncoderOutput(BaseModelOutput):
    r"""
    Output of [`DualCodeT5Encoder`]: the memory the decoder cross-attends to.

    Args:
        last_hidden_state (`torch.FloatTensor` of shape `(batch_size, intent_length + pattern_length, d_model)`):
            Fused intent states followed by the pattern states (just the fused intent states without a pattern).
        hidden_states (`tuple(torch.FloatTensor)`, *optional*):
            Hidden states of the intent encoder (when `output_hidden_states=True`).
        attentions (`tuple(torch.FloatTensor)`, *optional*):
            Self-attentions of the intent encoder (when `output_attentions=True`).
        attention_mask (`torch.LongTensor` of shape `(batch_size, intent_length + pattern_length)`):
            Mask of the memory: 1 for tokens, 0 for padding. `generate` expands it with the states for beam search,
            and the decoder uses it instead of the intent-only `attention_mask`.
        pattern_last_hidden_state (`torch.FloatTensor` of shape `(batch_size, pattern_length, d_model)`, *optional*):
            Pattern encoder output (zeros at padding), `None` without a pattern.
        copy_input_ids (`torch.LongTensor` of shape `(batch_size, intent_length + pattern_length)`, *optional*):
            Only with `config.copy_mechanism`: the token id of every memory position, `-1` where nothing may be
            copied (padding, and positions outside `config.copy_from`). A tensor field, so `generate` expands it
            for beam search and `num_return_sequences` together with the states, and cached decoding steps
            (which get only `encoder_outputs`) still find it.
        copy_previous_ids (`torch.LongTensor` of shape `(batch_size, intent_length + pattern_length)`, *optional*):
            Only with `config.copy_mechanism`: the token id *before* every memory position in its segment (intent
            or pattern), `-1` at a segment's first position and at padding. Read by the copy head's
            previous-token term; travels like `copy_input_ids`.
    """

    attention_mask: torch.LongTensor | None = None
    pattern_last_hidden_state: torch.FloatTensor | None = None
    copy_input_ids: torch.LongTensor | None = None
    copy_previous_ids: torch.LongTensor | None = None


@dataclass
class DualCodeT5Seq2SeqLMOutput(Seq2SeqLMOutput):
    r"""
    [`~modeling_outputs.Seq2SeqLMOutput`] plus the pointer-generator gate.

    Args:
        p_gen (`torch.FloatTensor` of shape `(batch_size, target_length)`, *optional*):
            Only with `config.copy_mechanism`: the weight of the LM head's distribution at each step (1 - p_gen is
            the copy weight; 1 where the example has nothing to copy from).
    """

    p_gen: torch.FloatTensor | None = None


def _copy_input_ids(
    config: DualCodeT5Config,
    input_ids: torch.LongTensor,
    attention_mask: torch.Tensor,
    pattern_input_ids: torch.LongTensor | None,
    pattern_attention_mask: torch.Tensor | None,
) -> tuple[torch.LongTensor, torch.LongTensor]:
    """The id each memory position can copy and the id before it in its segment.

    Returns:
        `(copy_input_ids, copy_previous_ids)`, two `torch.LongTensor` of shape
        `(batch_size, intent_length [+ pattern_length])`, laid out like the memory. `copy_input_ids` is `-1` for
        padding and for positions outside `config.copy_from`; `copy_previous_ids` is `-1` at each segment's first
        position and at padding (it does not depend on `copy_from`).
    """

    def previous(ids: torch.LongTensor) -> torch.LongTensor:
        return nn.functional.pad(ids[:, :-1], (1, 0), value=-1)

    intent_tokens = input_ids.masked_fill(attention_mask == 0, -1)
    intent, intent_previous = intent_tokens, previous(intent_tokens).masked_fill(attention_mask == 0, -1)
    if config.copy_from == "pattern":
        intent = torch.full_like(intent, -1)
    if pattern_input_ids is None or pattern_input_ids.shape[1] == 0:
        return intent, intent_previous
    if pattern_attention_mask is None:
        pattern_attention_mask = (pattern_input_ids != config.pad_token_id).long()
    pattern_tokens = pattern_input_ids.masked_fill(pattern_attention_mask == 0, -1)
    pattern, pattern_previous = pattern_tokens, previous(pattern_tokens).masked_fill(pattern_attention_mask == 0, -1)
    if config.copy_from == "intent":
        pattern = torch.full_like(pattern, -1)
    return torch.cat([intent, pattern], dim=1), torch.cat([intent_previous, pattern_previous], dim=1)


def _stack_config(config: DualCodeT5Config, num_layers: int, is_decoder: bool) -> T5Config:
    """The `T5Config` of one stack, built from the flat dual config."""
    stack_config = T5Config(
        vocab_size=config.vocab_size,
        d_model=config.d_model,
        d_kv=config.d_kv,
        d_ff=config.d_ff,
        num_layers=num_layers,
        num_decoder_layers=num_layers,
        num_heads=config.num_heads,
        relative_attention_num_buckets=config.relative_attention_num_buckets,
        relative_attention_max_distance=config.relative_attention_max_distance,
        dropout_rate=config.dropout_rate,
        layer_norm_epsilon=config.layer_norm_epsilon,
        initializer_factor=config.initializer_factor,
        feed_forward_proj=config.feed_forward_proj,
        is_encoder_decoder=True,
        is_decoder=is_decoder,
        use_cache=config.use_cache if is_decoder else False,
        pad_token_id=config.pad_token_id,
        eos_token_id=config.eos_token_id,
    )
    # A sub-stack's config does not inherit the attention implementation chosen for the outer model
    # (docs/hf_notes.md gotcha 9), so copy it.
    stack_config._attn_implementation = config._attn_implementation
    return stack_config


def _build_stack(config: DualCodeT5Config, num_layers: int, is_decoder: bool) -> T5Stack:
    stack = T5Stack(_stack_config(config, num_layers, is_decoder))
    # Tokens are embedded once by the shared embedding and passed as `inputs_embeds`; a per-stack copy would
    # only duplicate `vocab_size x d_model` weights in the checkpoint.
    stack.embed_tokens = None
    return stack


class DualCodeT5Fusion(nn.Module):
    """Intent states attend to pattern states: `LN(h + dropout(MHA(query=h, key=value=p)))`."""

    def __init__(self, config: DualCodeT5Config) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(
            config.d_model, config.fusion_num_heads, dropout=config.fusion_dropout, batch_first=True
        )
        self.dropout = nn.Dropout(config.fusion_dropout)
        self.layer_norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_epsilon)

    def forward(
        self,
        intent_states: torch.Tensor,
        pattern_states: torch.Tensor | None,
        pattern_attention_mask: torch.Tensor | None,
    ) -> torch.Tensor:
        r"""
        Args:
            intent_states (`torch.FloatTensor` of shape `(batch_size, intent_length, d_model)`)
            pattern_states (`torch.FloatTensor` of shape `(batch_size, pattern_length, d_model)`, *optional*):
                `None` (no pattern at all) leaves the residual branch empty: the output is `LN(intent_states)`.
            pattern_attention_mask (`torch.LongTensor` of shape `(batch_size, pattern_length)`, *optional*)

        Returns:
            `torch.FloatTensor` of shape `(batch_size, intent_length, d_model)`.
        """
        if pattern_states is None:
            return self.layer_norm(intent_states)
        has_pattern = pattern_attention_mask.bool().any(dim=1)  # (B,)
        key_padding_mask = ~pattern_attention_mask.bool()  # (B, Lp), True = ignore
        # A row whose pattern is all padding would give softmax over nothing (NaN, also in the backward pass):
        # let it see its first (zeroed) position and drop its attention output below, so it behaves exactly like
        # a row without pattern.
        key_padding_mask[:, 0] &= has_pattern
        attended, _ = self.attention(
            intent_states, pattern_states, pattern_states, key_padding_mask=key_padding_mask, need_weights=False
        )
        attended = attended * has_pattern[:, None, None].to(attended.dtype)
        return self.layer_norm(intent_states + self.dropout(attended))


class DualCodeT5CopyHead(nn.Module):
    """Pointer-generator output layer: one bilinear attention head over the memory and the gate `p_gen`.

    `score(s, j) = ((W_q s) . m_j + (W_r s) . e(x_{j-1})) / sqrt(d_model)`: the first term matches the decoder state
    against the memory state at `j`, the second against the embedding of the token *before* `j` in its segment
    (zero at a segment's first position). The second term is an induction-head prior (Olsson et al. 2022; the
    "selective read" of CopyNet, Gu et al. 2016, without its recurrent state): a decoder that has just emitted
    `x_{j-1}` finds its successor `x_j` by content, so runs of tokens copy one after another with no learned
    position arithmetic. Neither term projects the memory, so a cached decoding step costs two `(d_model x d_model)`
    products plus attention over the memory.
    """

    def __init__(self, config: DualCodeT5Config) -> None:
        super().__init__()
        self.scale = config.d_model**-0.5
        # Parameters held directly (not in nn.Linear children): transformers initialises a remote-code module only
        # when it owns parameters, so `_init_weights` sees this module and can draw them at the right scale.
        self.query_weight = nn.Parameter(torch.empty(config.d_model, config.d_model))  # W_q: (d, d)
        self.previous_query_weight = nn.Parameter(torch.empty(config.d_model, config.d_model))  # W_r: (d, d)
        self.gate_weight = nn.Parameter(torch.empty(1, 2 * config.d_model))  # w: (1, 2d) over [s; context]
        self.gate_bias = nn.Parameter(torch.zeros(1))  # b

    def forward(
        self,
        decoder_states: torch.Tensor,
        memory: torch.Tensor,
        copy_input_ids: torch.LongTensor,
        copy_previous_ids: torch.LongTensor,
        lm_logits: torch.Tensor,
        embedding_weight: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        r"""
        Args:
            decoder_states (`torch.FloatTensor` of shape `(batch_size, target_length, d_model)`):
                Output of the decoder stack (before the tied-head rescaling).
            memory (`torch.FloatTensor` of shape `(batch_size, memory_length, d_model)`):
                The encoder memory the decoder cross-attends to.
            copy_input_ids (`torch.LongTensor` of shape `(batch_size, memory_length)`):
                Token id of each memory position, `-1` where nothing may be copied.
            copy_previous_ids (`torch.LongTensor` of shape `(batch_size, memory_length)`):
                Token id before each memory position in its segment, `-1` where there is none.
            lm_logits (`torch.FloatTensor` of shape `(batch_size, target_length, vocab_size)`):
                Scores of the LM head.
            embedding_weight (`torch.FloatTensor` of shape `(vocab_size, d_model)`):
                The shared token embedding, for the previous-token term.

        Returns:
            `(log_probs, p_gen)`: `torch.FloatTensor` (float32) of shape `(batch_size, target_length, vocab_size)`
            with `logsumexp(log_probs, -1) == 0`, and the effective gate of shape `(batch_size, target_length)`.
        """
        copyable = copy_input_ids >= 0  # (B, M)
        has_source = copyable.any(dim=1)  # (B,): a row with nothing to copy generates only
        query = nn.functional.linear(decoder_states, self.query_weight)  # (B, T, d)
        scores = torch.matmul(query, memory.transpose(1, 2)).float() * self.scale  # (B, T, M)
        previous = nn.functional.embedding(copy_previous_ids.clamp(min=0), embedding_weight)  # (B, M, d)
        previous = previous * (copy_previous_ids >= 0)[..., None].to(previous.dtype)
        previous_query = nn.functional.linear(decoder_states, self.previous_query_weight)  # (B, T, d)
        scores = scores + torch.matmul(previous_query, previous.to(previous_query.dtype).transpose(1, 2)).float() * (
            self.scale
        )
        scores = scores.masked_fill(~copyable[:, None, :], torch.finfo(torch.float32).min)
        # padding gets exactly 0 (also in a row without any copyable position, where softmax is uniform)
        attention = torch.softmax(scores, dim=-1) * copyable[:, None, :]  # (B, T, M)
        context = torch.matmul(attention.to(memory.dtype), memory)  # (B, T, d)
        features = torch.cat([decoder_states, context.to(decoder_states.dtype)], dim=-1)  # (B, T, 2d)
        gate = nn.functional.linear(features, self.gate_weight, self.gate_bias).squeeze(-1)  # (B, T)
        copy_weight = torch.sigmoid(-gate.float()) * has_source[:, None]  # (B, T): 1 - p_gen
        # Mix in probability space (float32; a log-space logaddexp would need log 0 for ids absent from the memory,
        # whose gradient is NaN), then clamp before the log: the clamp moves at most vocab_size * 1.2e-38 mass and
        # its gradient below the clamp is 0, so no log 0 / inf / NaN in any dtype.
        probs = torch.softmax(lm_logits.float(), dim=-1) * (1.0 - copy_weight)[..., None]  # (B, T, V)
        index = copy_input_ids.clamp(min=0)[:, None, :].expand(-1, probs.shape[1], -1)  # (B, T, M)
        probs = probs.scatter_add(-1, index, attention * copy_weight[..., None])
        log_probs = torch.log(probs.clamp(min=torch.finfo(torch.float32).tiny))
        return log_probs, 1.0 - copy_weight


class DualCodeT5Encoder(nn.Module):
    """
    The two encoders, the fusion and the shared token embedding, as one module: what `get_encoder()` returns and
    what `generate` calls once before decoding.
    """

    main_input_name = "input_ids"

    def __init__(self, config: DualCodeT5Config) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.d_model)
        self.intent_encoder = _build_stack(config, config.num_layers, is_decoder=False)
        # The single-encoder baseline reads the pattern inside `input_ids`: no second stack, no fusion to allocate.
        separate_pattern_encoder = not (config.tie_encoders or config.single_encoder)
        self.pattern_encoder = (
            _build_stack(config, config.pattern_num_layers, is_decoder=False) if separate_pattern_encoder else None
        )
        self.fusion = None if config.single_encoder else DualCodeT5Fusion(config)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        pattern_input_ids: torch.LongTensor | None = None,
        pattern_attention_mask: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> DualCodeT5EncoderOutput:
        r"""
        Args:
            input_ids (`torch.LongTensor` of shape `(batch_size, intent_length)`):
                Intent token ids (`config.single_encoder`: intent and pattern in one sequence).
            attention_mask (`torch.Tensor` of shape `(batch_size, intent_length)`, *optional*):
                1 for intent tokens, 0 for padding; all ones when omitted.
            pattern_input_ids (`torch.LongTensor` of shape `(batch_size, pattern_length)`, *optional*):
                Pattern token ids. `None` or length 0 means "no pattern"; a row of pure padding is a missing pattern
                for that example only. Refused by a `config.single_encoder` model (the pattern is in `input_ids`).
            pattern_attention_mask (`torch.Tensor` of shape `(batch_size, pattern_length)`, *optional*):
                1 for pattern tokens, 0 for padding; derived from `pad_token_id` when omitted.
            kwargs:
                Accepted and ignored (`generate` adds its own keys); the name must stay `kwargs` so that `generate`
                passes the pattern inputs through (docs/hf_notes.md gotcha 4).

        Returns:
            [`DualCodeT5EncoderOutput`] with `last_hidden_state` of shape `(batch_size, memory_length, d_model)`,
            its `attention_mask` and (copy models) `copy_input_ids`.
        """
        if input_ids is None:
            raise ValueError("DualCodeT5Encoder needs `input_ids` (the intent tokens)")
        if self.config.single_encoder and pattern_input_ids is not None and pattern_input_ids.shape[1] > 0:
            raise ValueError(
                "this is a single-encoder model (config.single_encoder=True): pass intent and pattern as one "
                "sequence in `input_ids` (k8s_data.format_single_encoder_input), not `pattern_input_ids`"
            )
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        intent = self.intent_encoder(
            inputs_embeds=self.embed_tokens(input_ids),
            attention_mask=attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        intent_states = intent.last_hidden_state

        pattern_states = None
        if pattern_input_ids is not None and pattern_input_ids.shape[1] > 0:
            if pattern_attention_mask is None:
                pattern_attention_mask = (pattern_input_ids != self.config.pad_token_id).long()
            pattern_attention_mask = pattern_attention_mask.to(attention_mask.dtype)
            # The pattern encoder must not see an all-padding row (fully masked self-attention is undefined), so
            # such a row attends to its first position; its states are zeroed and masked everywhere below.
            encoder_mask = pattern_attention_mask.clone()
            encoder_mask[:, 0] = torch.where(pattern_attention_mask.bool().any(dim=1), encoder_mask[:, 0], 1)
            pattern_encoder = self.pattern_encoder if self.pattern_encoder is not None else self.intent_encoder
            pattern_states = pattern_encoder(
                inputs_embeds=self.embed_tokens(pattern_input_ids), attention_mask=encoder_mask
            ).last_hidden_state
            pattern_states = pattern_states * pattern_attention_mask[..., None].to(pattern_states.dtype)

        if self.fusion is None:  # single encoder: the memory is the encoder output, as in T5
            fused = intent_states
        else:
            fused = self.fusion(intent_states, pattern_states, pattern_attention_mask)
        if pattern_states is None:
            memory, memory_mask = fused, attention_mask
        else:
            memory = torch.cat([fused, pattern_states], dim=1)
            memory_mask = torch.cat([attention_mask, pattern_attention_mask], dim=1)
        copy_input_ids = copy_previous_ids = None
        if self.config.copy_mechanism:
            copy_input_ids, copy_previous_ids = _copy_input_ids(
                self.config, input_ids, attention_mask, pattern_input_ids if pattern_states is not None else None,
                pattern_attention_mask,
            )  # fmt: skip
        return DualCodeT5EncoderOutput(
            last_hidden_state=memory,
            hidden_states=intent.hidden_states,
            attentions=intent.attentions,
            attention_mask=memory_mask,
            pattern_last_hidden_state=pattern_states,
            copy_input_ids=copy_input_ids,
            copy_previous_ids=copy_previous_ids,
        )


class DualCodeT5PreTrainedModel(PreTrainedModel):
    """Weight initialisation and capabilities shared by DualCodeT5 models."""

    config_class = DualCodeT5Config
    config: DualCodeT5Config
    base_model_prefix = "dual_codet5"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _no_split_modules = ["T5Block", "DualCodeT5Fusion", "DualCodeT5CopyHead"]
    # T5's feed-forward output projection overflows in fp16; transformers keeps it in fp32 when loading in fp16.
    _keep_in_fp32_modules = ["wo"]
    _supports_flash_attn = False  # T5's relative position bias is an additive score bias
    _supports_sdpa = True
    _supports_flex_attn = True
    _can_compile_fullgraph = True

    def _init_weights(self, module: nn.Module) -> None:
        """T5's initialisation for the embedding and the LM head, Xavier for the fusion attention, unit-scale
        normal for the copy head.

        The T5 stacks are `PreTrainedModel`s themselves and are initialised by T5's own `_init_weights`.
        `transformers.initialization` functions leave tensors loaded from a checkpoint untouched.
        """
        factor = self.config.initializer_factor
        if isinstance(module, DualCodeT5CopyHead):
            # q . m / sqrt(d) and the gate logit start at unit scale; p_gen starts near 0.5
            d_model = self.config.d_model
            init.normal_(module.query_weight, mean=0.0, std=factor * d_model**-0.5)
            init.normal_(module.previous_query_weight, mean=0.0, std=factor * d_model**-0.5)
            init.normal_(module.gate_weight, mean=0.0, std=factor * (2 * d_model) ** -0.5)
            init.zeros_(module.gate_bias)
        elif isinstance(module, nn.MultiheadAttention):
            init.xavier_uniform_(module.in_proj_weight)
            init.zeros_(module.in_proj_bias)
            init.xavier_uniform_(module.out_proj.weight)
            init.zeros_(module.out_proj.bias)
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            init.normal_(module.weight, mean=0.0, std=factor * 1.0)
        elif isinstance(module, nn.Linear):
            # The LM head (only used untied) is drawn like the embedding, as T5 does. The fusion's `out_proj` also
            # lands here first; its parent `nn.MultiheadAttention` is visited after it and redraws it.
            init.normal_(module.weight, mean=0.0, std=factor * 1.0)

    def _shift_right(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Labels `(batch, T)` -> decoder inputs `(batch, T)`: prepend `decoder_start_token_id`, `-100` -> pad."""
        shifted = input_ids.new_zeros(input_ids.shape)
        shifted[..., 1:] = input_ids[..., :-1].clone()
        shifted[..., 0] = self.config.decoder_start_token_id
        shifted.masked_fill_(shifted == -100, self.config.pad_token_id)
        return shifted


class DualCodeT5ForConditionalGeneration(DualCodeT5PreTrainedModel, GenerationMixin):
    r"""
    DualCodeT5 with a language-modelling head: intent encoder + pattern encoder + attention fusion + T5 decoder
    (`config.single_encoder`: one encoder reading intent and pattern as one sequence + T5 decoder).

    Example:

    ```python
    >>> import torch
    >>> from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration
    >>> from modeling_dual_codet5.presets import preset_config
    >>> model = DualCodeT5ForConditionalGeneration(preset_config("tiny")).eval()
    >>> intent_ids, pattern_ids = torch.tensor([[11, 12, 13, 2]]), torch.tensor([[31, 32, 2]])
    >>> out = model.generate(input_ids=intent_ids, pattern_input_ids=pattern_ids, num_beams=4, max_new_tokens=5)
    >>> out.shape
    torch.Size([1, 6])

    ```
    """

    _tied_weights_keys = {"lm_head.weight": "encoder.embed_tokens.weight"}

    def __init__(self, config: DualCodeT5Config) -> None:
        super().__init__(config)
        self.model_dim = config.d_model
        self.encoder = DualCodeT5Encoder(config)
        self.decoder = _build_stack(config, config.num_decoder_layers, is_decoder=True)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.copy_head = DualCodeT5CopyHead(config) if config.copy_mechanism else None
        self.post_init()

    @property
    def shared(self) -> nn.Embedding:
        """The token embedding shared by both encoders, the decoder and (when tied) the LM head."""
        return self.encoder.embed_tokens

    def get_input_embeddings(self) -> nn.Embedding:
        return self.encoder.embed_tokens

    def set_input_embeddings(self, new_embeddings: nn.Embedding) -> None:
        self.encoder.embed_tokens = new_embeddings

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def set_output_embeddings(self, new_embeddings: nn.Linear) -> None:
        self.lm_head = new_embeddings

    def get_encoder(self, modality: str | None = None) -> DualCodeT5Encoder:
        return self.encoder

    def get_decoder(self) -> T5Stack:
        return self.decoder

    @can_return_tuple
    @deprecate_kwarg("past_key_values", "5.40.0", new_name="cache")
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        pattern_input_ids: torch.LongTensor | None = None,
        pattern_attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.LongTensor | None = None,
        decoder_attention_mask: torch.BoolTensor | None = None,
        encoder_outputs: DualCodeT5EncoderOutput | tuple[torch.Tensor, ...] | None = None,
        cache: Cache | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        **kwargs: Any,
    ) -> DualCodeT5Seq2SeqLMOutput:
        r"""
        Args:
            input_ids (`torch.LongTensor` of shape `(batch_size, intent_length)`):
                Intent token ids.
            attention_mask (`torch.Tensor` of shape `(batch_size, intent_length)`, *optional*):
                1 for intent tokens, 0 for padding.
            pattern_input_ids (`torch.LongTensor` of shape `(batch_size, pattern_length)`, *optional*):
                Pattern (manifest skeleton) token ids; may be omitted or empty.
            pattern_attention_mask (`torch.Tensor` of shape `(batch_size, pattern_length)`, *optional*):
                1 for pattern tokens, 0 for padding.
            decoder_input_ids (`torch.LongTensor` of shape `(batch_size, target_length)`, *optional*):
                Decoder inputs; built from `labels` by shifting right when omitted. With a cache, only the new
                tokens.
            decoder_attention_mask (`torch.BoolTensor` of shape `(batch_size, target_length)`, *optional*):
                Decoder padding mask (the causal mask is always applied).
            encoder_outputs ([`DualCodeT5EncoderOutput`], *optional*):
                Precomputed memory (what `generate` passes after its single encoder call); skips both encoders.
                Its `attention_mask` is the memory mask; a plain tuple/`BaseModelOutput` falls back to
                `attention_mask` (and, for a copy model, rebuilds `copy_input_ids` from `input_ids` and the
                pattern inputs, which must then be given).
            cache ([`~cache_utils.EncoderDecoderCache`], *optional*):
                Decoder key/value cache (the name `generate` uses in transformers 5).
            labels (`torch.LongTensor` of shape `(batch_size, target_length)`, *optional*):
                Target ids; `-100` is ignored by the loss.
            use_cache (`bool`, *optional*):
                Return the decoder cache (`config.use_cache` by default).

        Returns:
            [`DualCodeT5Seq2SeqLMOutput`]: `logits` of shape `(batch_size, target_length, vocab_size)`, `loss`
            (scalar) when `labels` are given, `cache`, and the memory as `encoder_last_hidden_state`. With
            `config.copy_mechanism`, `logits` are the float32 log-probabilities of the pointer-generator mixture,
            `loss` is their negative log-likelihood, and `p_gen` is the gate.
        """
        if encoder_outputs is None:
            encoder_outputs = self.encoder(
                input_ids=input_ids,
                attention_mask=attention_mask,
                pattern_input_ids=pattern_input_ids,
                pattern_attention_mask=pattern_attention_mask,
                output_attentions=kwargs.get("output_attentions"),
                output_hidden_states=kwargs.get("output_hidden_states"),
            )
        elif not isinstance(encoder_outputs, BaseModelOutput):
            encoder_outputs = BaseModelOutput(
                last_hidden_state=encoder_outputs[0],
                hidden_states=encoder_outputs[1] if len(encoder_outputs) > 1 else None,
                attentions=encoder_outputs[2] if len(encoder_outputs) > 2 else None,
            )
        memory = encoder_outputs.last_hidden_state
        memory_mask = getattr(encoder_outputs, "attention_mask", None)
        if memory_mask is None:
            memory_mask = attention_mask

        if labels is not None and decoder_input_ids is None and decoder_inputs_embeds is None:
            decoder_input_ids = self._shift_right(labels)
        if decoder_inputs_embeds is None:
            decoder_inputs_embeds = self.encoder.embed_tokens(decoder_input_ids)

        decoder_outputs = self.decoder(
            inputs_embeds=decoder_inputs_embeds,
            attention_mask=decoder_attention_mask,
            encoder_hidden_states=memory,
            encoder_attention_mask=memory_mask,
            cache=cache,
            use_cache=use_cache,
            **kwargs,
        )
        sequence_output = decoder_outputs.last_hidden_state
        if self.config.tie_word_embeddings:
            # T5 v1.0 / CodeT5: a head tied to the embedding sees the decoder output rescaled by d_model ** -0.5
            sequence_output = sequence_output * (self.model_dim**-0.5)
        logits = self.lm_head(sequence_output)

        p_gen = None
        if self.copy_head is not None:
            copy_input_ids = getattr(encoder_outputs, "copy_input_ids", None)
            copy_previous_ids = getattr(encoder_outputs, "copy_previous_ids", None)
            if copy_input_ids is None or copy_previous_ids is None:
                copy_input_ids, copy_previous_ids = self._rebuild_copy_input_ids(
                    memory, input_ids, attention_mask, pattern_input_ids, pattern_attention_mask
                )
            logits, p_gen = self.copy_head(
                decoder_outputs.last_hidden_state,
                memory,
                copy_input_ids,
                copy_previous_ids,
                logits,
                self.encoder.embed_tokens.weight,
            )

        loss = None
        if labels is not None:
            loss_fct = nn.NLLLoss(ignore_index=-100) if p_gen is not None else CrossEntropyLoss(ignore_index=-100)
            loss = loss_fct(logits.float().view(-1, logits.size(-1)), labels.to(logits.device).view(-1))

        return DualCodeT5Seq2SeqLMOutput(
            loss=loss,
            logits=logits,
            cache=decoder_outputs.cache,
            decoder_hidden_states=decoder_outputs.hidden_states,
            decoder_attentions=decoder_outputs.attentions,
            cross_attentions=decoder_outputs.cross_attentions,
            encoder_last_hidden_state=memory,
            encoder_hidden_states=encoder_outputs.hidden_states,
            encoder_attentions=encoder_outputs.attentions,
            p_gen=p_gen,
        )

    def _rebuild_copy_input_ids(
        self,
        memory: torch.Tensor,
        input_ids: torch.LongTensor | None,
        attention_mask: torch.Tensor | None,
        pattern_input_ids: torch.LongTensor | None,
        pattern_attention_mask: torch.Tensor | None,
    ) -> tuple[torch.LongTensor, torch.LongTensor]:
        """`copy_input_ids` and `copy_previous_ids` for `encoder_outputs` that lack them (a plain tuple /
        `BaseModelOutput`)."""
        if input_ids is None:
            raise ValueError(
                "a copy model (config.copy_mechanism=True) needs the memory's token ids: pass encoder_outputs from "
                "model.get_encoder() (they carry copy_input_ids) or pass input_ids (and the pattern inputs) as well"
            )
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        copy_input_ids, copy_previous_ids = _copy_input_ids(
            self.config, input_ids, attention_mask, pattern_input_ids, pattern_attention_mask
        )
        copy_input_ids, copy_previous_ids = copy_input_ids.to(memory.device), copy_previous_ids.to(memory.device)
        if copy_input_ids.shape != memory.shape[:2]:
            raise ValueError(
                f"copy_input_ids built from input_ids / pattern_input_ids have shape {tuple(copy_input_ids.shape)} "
                f"but the memory in encoder_outputs has {tuple(memory.shape[:2])}"
            )
        return copy_input_ids, copy_previous_ids

    def prepare_decoder_input_ids_from_labels(self, labels: torch.Tensor) -> torch.Tensor:
        return self._shift_right(labels)

    @classmethod
    def from_codet5(
        cls, name_or_path: str, output_loading_info: bool = False, **config_overrides: Any
    ) -> DualCodeT5ForConditionalGeneration | tuple[DualCodeT5ForConditionalGeneration, dict[str, Any]]:
        """Build a DualCodeT5 initialised from a T5 / CodeT5 / CodeT5+ (220M, 770M) checkpoint.

        Both encoders start from the checkpoint's encoder, the decoder and LM head from its decoder and head, the
        embedding from its shared embedding; the fusion layer is freshly initialised. A `single_encoder=True` model
        deeper than the checkpoint's encoder stacks copies of it (block `i` from block `i % num_layers`). The
        transfer is logged and kept on the returned model as `model.codet5_init_report`: a dict with `source`,
        `copied` (our parameter names that received a tensor), `missing` (ours left freshly initialised),
        `unexpected` (checkpoint tensors not used) and `shape_mismatch`.

        Args:
            name_or_path (`str`):
                A Hub id (`"Salesforce/codet5-base"`, online) or a local folder holding a
                `T5ForConditionalGeneration` (offline).
            output_loading_info (`bool`, *optional*, defaults to `False`):
                Also return the report, as `(model, report)` (like `from_pretrained(..., output_loading_info=True)`).
            config_overrides:
                `DualCodeT5Config` fields to change (e.g. `fusion_num_heads=4`, `dropout_rate=0.0`,
                `pattern_num_layers=6`: a shallower pattern encoder gets the first layers).

        Returns:
            [`DualCodeT5ForConditionalGeneration`] in training mode (like `cls(config)`), or `(model, report)`.
        """
        from transformers import T5ForConditionalGeneration

        source = T5ForConditionalGeneration.from_pretrained(name_or_path)
        t5 = source.config
        fields = {
            "vocab_size": t5.vocab_size,
            "d_model": t5.d_model,
            "d_kv": t5.d_kv,
            "d_ff": t5.d_ff,
            "num_layers": t5.num_layers,
            "num_decoder_layers": t5.num_decoder_layers,
            "num_heads": t5.num_heads,
            "relative_attention_num_buckets": t5.relative_attention_num_buckets,
            "relative_attention_max_distance": t5.relative_attention_max_distance,
            "dropout_rate": float(t5.dropout_rate),
            "layer_norm_epsilon": t5.layer_norm_epsilon,
            "initializer_factor": t5.initializer_factor,
            "feed_forward_proj": t5.feed_forward_proj,
            # transformers 5 always ties T5's embeddings and records v1.0 (scaled, tied head) vs v1.1 here
            "tie_word_embeddings": bool(getattr(t5, "scale_decoder_outputs", True)),
        }
        for name in ("pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id"):
            value = getattr(t5, name, None)
            if value is not None:
                fields[name] = value
        fields.update(config_overrides)
        config = DualCodeT5Config(**fields)
        model = cls(config)

        source_state = source.state_dict()
        target_state = model.state_dict()
        mapping: dict[str, str] = {"encoder.embed_tokens.weight": "shared.weight"}
        if not config.tie_word_embeddings:
            mapping["lm_head.weight"] = "lm_head.weight"
        encoders = [("encoder.intent_encoder.", config.num_layers)]
        if model.encoder.pattern_encoder is not None:
            encoders.append(("encoder.pattern_encoder.", config.pattern_num_layers))
        for target_key in target_state:
            for prefix, depth in encoders:
                if target_key.startswith(prefix):
                    source_key = "encoder." + target_key[len(prefix) :]
                    block = _block_index(source_key)
                    if config.single_encoder and block >= t5.num_layers:
                        # A single encoder deeper than the checkpoint (the like-for-like baseline has the depth of
                        # both dual encoders) restarts from the checkpoint's first block: the dual model starts its
                        # two encoders from two copies of the checkpoint's encoder, this one stacks the two copies.
                        source_key = source_key.replace(f".block.{block}.", f".block.{block % t5.num_layers}.", 1)
                        mapping[target_key] = source_key
                    elif block < min(depth, t5.num_layers):
                        mapping[target_key] = source_key
            if target_key.startswith("decoder.") and _block_index(target_key) < t5.num_decoder_layers:
                mapping[target_key] = target_key

        copied, shape_mismatch = [], []
        with torch.no_grad():
            for target_key, source_key in mapping.items():
                if source_key not in source_state:
                    continue
                if source_state[source_key].shape != target_state[target_key].shape:
                    shape_mismatch.append(
                        f"{target_key} {tuple(target_state[target_key].shape)} <- {source_key} "
                        f"{tuple(source_state[source_key].shape)}"
                    )
                    continue
                target_state[target_key].copy_(source_state[source_key])
                copied.append(target_key)
        tied = {"lm_head.weight"} if config.tie_word_embeddings else set()
        missing = sorted(set(target_state) - set(copied) - tied)
        used_sources = {mapping[k] for k in copied}
        unexpected = sorted(
            k for k in source_state
            if k not in used_sources and k not in {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}
            and not (k == "lm_head.weight" and config.tie_word_embeddings)
        )  # fmt: skip
        model.tie_weights()
        report = {
            "source": str(name_or_path),
            "copied": sorted(copied),
            "missing": missing,
            "unexpected": unexpected,
            "shape_mismatch": shape_mismatch,
        }
        logger.info(
            "from_codet5(%s): copied %d tensors; freshly initialised (missing) %d: %s; unused from the checkpoint "
            "(unexpected) %d: %s; shape mismatches %d: %s",
            name_or_path, len(copied), len(missing), missing, len(unexpected), unexpected,
            len(shape_mismatch), shape_mismatch,
        )  # fmt: skip
        model.codet5_init_report = report
        return (model, report) if output_loading_info else model


def _block_index(key: str) -> int:
    """`"encoder.block.3.layer.0..."` -> 3; keys outside the blocks (final norm) -> -1, i.e. always copied."""
    parts = key.split(".")
    return int(parts[parts.index("block") + 1]) if "block" in parts else -1


__all__ = [
    "DualCodeT5CopyHead",
    "DualCodeT5Encoder",
    "DualCodeT5EncoderOutput",
    "DualCodeT5ForConditionalGeneration",
    "DualCodeT5Fusion",
    "DualCodeT5PreTrainedModel",
    "DualCodeT5Seq2SeqLMOutput",
]
