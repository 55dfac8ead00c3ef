"""Loading a saved model (dual-encoder or single-encoder baseline) and generating YAML in batches.

Used by `evaluate_models.py` and the `dual-codet5 generate` CLI, so that evaluation and the command users run format
inputs exactly as training did (docs/interfaces.md, "Input formatting"):

- dual model (`config.model_type == "dual_codet5"`): `input_ids` = tokenizer(intent), `pattern_input_ids` =
  tokenizer(pattern);
- baseline (a plain T5): `input_ids` = tokenizer(`k8s_data.format_single_encoder_input(intent, pattern)`).

Example:

```python
>>> loaded = load_for_inference("outputs/rl/final")
>>> generate_yaml(loaded, ["Deploy nginx with 3 replicas"], [""], num_beams=4, max_new_tokens=256)[0][0]
'apiVersion: apps/v1\\nkind: Deployment\\n...'
```
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

__all__ = ["LoadedModel", "load_for_inference", "generate_yaml", "format_inputs"]

DUAL_MODEL_TYPE = "dual_codet5"


@dataclass
class LoadedModel:
    """A model ready for generation.

    Args:
        model: the seq2seq model, in eval mode, on its device.
        tokenizer: the tokenizer saved with it.
        is_dual: True for `DualCodeT5ForConditionalGeneration` (intent and pattern as two inputs), False for the
            single-encoder T5 baseline (one concatenated input).
        name_or_path: where it was loaded from.
    """

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    is_dual: bool
    name_or_path: str = ""

    @property
    def device(self) -> torch.device:
        return self.model.device


def _register_local_model() -> None:
    # Importing the package registers AutoConfig / AutoModelForSeq2SeqLM, so a folder saved in-process loads even
    # without its remote-code files; a Hub export loads through trust_remote_code either way.
    try:
        import modeling_dual_codet5  # noqa: F401
    except ImportError:
        logger.debug("modeling_dual_codet5 not importable; relying on trust_remote_code")


def load_for_inference(
    model_name_or_path: str, device: str | torch.device | None = None, *, dtype: str | torch.dtype | None = None
) -> LoadedModel:
    """Load a saved model folder or Hub id with its tokenizer (`trust_remote_code=True`) for generation.

    Args:
        model_name_or_path: a `save_pretrained` folder or a Hub id (offline: must be in the local cache).
        device: e.g. `"cuda:0"`; default CUDA when available, else CPU.
        dtype: optional weight dtype, e.g. `"bfloat16"` on A100/H100 (default: as saved).

    Returns:
        `LoadedModel` with the model in eval mode.
    """
    _register_local_model()
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    kwargs: dict[str, Any] = {"trust_remote_code": True}
    if dtype is not None:
        kwargs["dtype"] = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    model = AutoModelForSeq2SeqLM.from_pretrained(model_name_or_path, **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(model_name_or_path, trust_remote_code=True)
    model.to(device).eval()
    is_dual = getattr(model.config, "model_type", None) == DUAL_MODEL_TYPE
    logger.info("loaded %s (%s) on %s", model_name_or_path, "dual" if is_dual else "single-encoder", device)
    return LoadedModel(model=model, tokenizer=tokenizer, is_dual=is_dual, name_or_path=str(model_name_or_path))


def format_inputs(is_dual: bool, intent: str, pattern: str) -> tuple[str, str | None]:
    """The text(s) a model of either kind reads for one example: `(intent, pattern)` or `(concatenated, None)`."""
    if is_dual:
        return intent, pattern
    from k8s_data import format_single_encoder_input

    return format_single_encoder_input(intent, pattern), None


def _tokenize(tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int | None, device) -> dict:
    enc = tokenizer(
        texts, padding=True, truncation=max_length is not None, max_length=max_length, return_tensors="pt"
    )
    if enc["input_ids"].shape[1] == 0:
        # Every text empty and no special tokens added: give the encoder one EOS so it has a position to attend to.
        eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.pad_token_id
        enc = {
            "input_ids": torch.full((len(texts), 1), eos, dtype=torch.long),
            "attention_mask": torch.ones((len(texts), 1), dtype=torch.long),
        }
    return {k: v.to(device) for k, v in enc.items()}


@torch.inference_mode()
def generate_yaml(
    loaded: LoadedModel,
    intents: Sequence[str],
    patterns: Sequence[str] | None = None,
    *,
    batch_size: int = 8,
    max_new_tokens: int = 512,
    num_beams: int = 4,
    do_sample: bool = False,
    num_return_sequences: int = 1,
    max_input_length: int | None = 512,
    **generate_kwargs,
) -> list[list[str]]:
    """Generate YAML for each intent (with its pattern), batched.

    Examples are sorted by input length (longest first) so each batch pads little and an out-of-memory error shows
    up on the first batch, then the outputs are put back in input order.

    Args:
        loaded: from `load_for_inference`.
        intents: natural-language intents, length `n`.
        patterns: one pattern per intent (an empty string for none); default all empty.
        batch_size: inputs per `generate` call (each expands to `num_beams` or `num_return_sequences` rows).
        max_new_tokens: generation length limit.
        num_beams: beam width (1 = greedy or pure sampling).
        do_sample: sample instead of searching (set `temperature`, `top_p`, ... through `generate_kwargs`).
        num_return_sequences: candidates per intent (at most `num_beams` unless sampling).
        max_input_length: inputs are truncated to this many tokens (None: no truncation).
        **generate_kwargs: passed to `model.generate`.

    Returns:
        `n` lists of `num_return_sequences` decoded YAML strings each, in input order.
    """
    n = len(intents)
    patterns = [""] * n if patterns is None else list(patterns)
    if len(patterns) != n:
        raise ValueError(f"got {n} intents but {len(patterns)} patterns")
    if num_return_sequences > num_beams and not do_sample:
        raise ValueError(
            f"num_return_sequences={num_return_sequences} needs num_beams >= it or do_sample=True (got num_beams="
            f"{num_beams})"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    tok, model = loaded.tokenizer, loaded.model
    texts = [format_inputs(loaded.is_dual, i, p) for i, p in zip(intents, patterns)]
    lengths = [len(tok(a)["input_ids"]) + (len(tok(b)["input_ids"]) if b is not None else 0) for a, b in texts]
    order = sorted(range(n), key=lambda k: -lengths[k])
    outputs: list[list[str]] = [[] for _ in range(n)]
    gen = {
        "max_new_tokens": max_new_tokens,
        "num_beams": num_beams,
        "do_sample": do_sample,
        "num_return_sequences": num_return_sequences,
        **generate_kwargs,
    }
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        enc = _tokenize(tok, [texts[k][0] for k in idx], max_input_length, model.device)
        inputs = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
        if loaded.is_dual:
            pat = _tokenize(tok, [texts[k][1] for k in idx], max_input_length, model.device)
            inputs["pattern_input_ids"] = pat["input_ids"]  # (batch, pattern_len)
            inputs["pattern_attention_mask"] = pat["attention_mask"]
        out = model.generate(**inputs, **gen)  # (batch * num_return_sequences, out_len), grouped per input
        # no clean-up: it rewrites spaces around punctuation, and YAML indentation and ': ' are significant
        decoded = tok.batch_decode(out, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        for j, k in enumerate(idx):
            outputs[k] = decoded[j * num_return_sequences : (j + 1) * num_return_sequences]
        logger.debug("generated %d / %d", min(start + batch_size, n), n)
    return outputs
