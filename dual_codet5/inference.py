"""Loading a saved model (dual-encoder or single-encoder baseline) and generating YAML in batches.

Used by `evaluate_models.py` and the `dual-codet5 generate` CLI, so that evaluation and the command users run format
inputs exactly as training did (docs/interfaces.md, "Input formatting"). The format is read from the model's config
alone (`dual_codet5.collate.model_type_of_config`):

- dual model (`config.model_type == "dual_codet5"`): `input_ids` = tokenizer(intent), `pattern_input_ids` =
  tokenizer(pattern);
- single-encoder models, the DualCodeT5 baseline (`config.single_encoder`, can copy) and a plain T5: `input_ids` =
  tokenizer(`k8s_data.format_single_encoder_input(intent, pattern)`).

Example:

```python
>>> loaded = load_for_inference("outputs/rl/final")
>>> generate_yaml(loaded, ["Deploy nginx with 3 replicas"], [""], num_beams=4, max_new_tokens=256)[0][0]
'apiVersion: apps/v1\\nkind: Deployment\\n...'
```
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml
from transformers import (
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    LogitsProcessorList,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    StoppingCriteriaList,
)

from dual_codet5.collate import model_type_of_config
from dual_codet5.lookup import ExemplarLookupLogitsProcessor
from dual_codet5.stopping import ManifestStoppingCriteria, StopRules, finish_text

logger = logging.getLogger(__name__)

__all__ = ["LoadedModel", "load_for_inference", "load_model_retrieval", "generate_yaml", "encode_inputs"]

# Written by the training scripts beside every checkpoint (dual_codet5.train_utils.ARGS_FILE).
TRAINING_ARGS_FILE = "training_args.yaml"
# Truncation defaults of training (dual_codet5.training_args), used when a model folder does not say.
DEFAULT_MAX_SOURCE_LENGTH = 128
DEFAULT_MAX_PATTERN_LENGTH = 256


@dataclass
class LoadedModel:
    """A model ready for generation.

    Args:
        model: the seq2seq model, in eval mode, on its device.
        tokenizer: the tokenizer saved with it.
        is_dual: True for the dual `DualCodeT5ForConditionalGeneration` (intent and pattern as two inputs), False
            for a single-encoder model (one concatenated input): a DualCodeT5 with `config.single_encoder` or a T5.
        name_or_path: where it was loaded from.
        max_source_length: intent-token budget the model was trained with (from `training_args.yaml`), if known.
        max_pattern_length: pattern-token budget the model was trained with, if known.
    """

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    is_dual: bool
    name_or_path: str = ""
    max_source_length: int | None = None
    max_pattern_length: int | None = None
    _retrieval: tuple[Any, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def retrieval(self) -> tuple[Any, Any]:
        """`(pattern bank, retrieval config)` the model was trained with, from its folder (`load_model_retrieval`),
        loaded on first use: the patterns it reads and the manifests the fallback returns come from there."""
        if self._retrieval is None:
            self._retrieval = load_model_retrieval(self.name_or_path or None)
        return self._retrieval

    @property
    def retrieval_config(self) -> Any | None:
        """The retrieval settings saved with the model (`k8s_data.RetrievalConfig`) without building its pattern
        bank: from `retrieval` when that is loaded already, else from the local folder's `retrieval_config.json`;
        None when the model has none there (trained before they were saved, or not a local folder)."""
        from k8s_data import RETRIEVAL_CONFIG_NAME, RetrievalConfig

        if self._retrieval is not None:
            return self._retrieval[1]
        folder = Path(self.name_or_path) if self.name_or_path else None
        if folder is not None and (folder / RETRIEVAL_CONFIG_NAME).is_file():
            return RetrievalConfig.load(folder)
        return None

    def pattern_for(self, intent: str) -> str:
        """The pattern for `intent` as the model was trained to read it (skeleton or exemplar, its own bank)."""
        bank, config = self.retrieval
        return bank.pattern_for(intent, config)


def _register_local_model() -> None:
    # Importing the package registers AutoConfig / AutoModelForSeq2SeqLM, so a folder saved in-process loads even
    # without its remote-code files; a Hub export loads through trust_remote_code either way.
    try:
        import modeling_dual_codet5  # noqa: F401
    except ImportError:
        logger.debug("modeling_dual_codet5 not importable; relying on trust_remote_code")


def _training_limits(model_name_or_path: str) -> dict[str, int]:
    """`max_source_length` / `max_pattern_length` from the folder's training arguments, when there are any."""
    path = Path(model_name_or_path) / TRAINING_ARGS_FILE
    if not path.is_file():
        return {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        resolved = yaml.load(path.read_text(), Loader=loader) or {}
    except yaml.YAMLError as err:
        logger.warning("ignoring unreadable %s: %s", path, err)
        return {}
    return {k: int(resolved[k]) for k in ("max_source_length", "max_pattern_length") if resolved.get(k) is not None}


@contextmanager
def _no_progress_bars() -> Iterator[None]:
    """Switch transformers' tqdm bars off for the block, then back to what they were."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def load_model_retrieval(model_name_or_path: str | None) -> tuple[Any, Any]:
    """The pattern bank and retrieval config saved with a model (`k8s_data.load_retrieval`).

    A local folder is read directly; a Hub id through the Hub cache (`huggingface_hub.hf_hub_download` of the two
    retrieval files; offline only what is cached). Without them -- a model trained before they were saved (skeleton
    patterns), files that cannot be fetched, or `None` -- the default bank of the bundled corpus with the legacy
    settings, with a warning.

    Returns:
        `(bank, config)`.
    """
    from k8s_data import load_retrieval

    if model_name_or_path is None:
        from k8s_data.banks import LEGACY_RETRIEVAL, default_pattern_bank

        return default_pattern_bank(), LEGACY_RETRIEVAL
    folder = Path(model_name_or_path)
    if not folder.is_dir():
        folder = _hub_retrieval_folder(model_name_or_path) or folder
    return load_retrieval(folder)


def _hub_retrieval_folder(repo_id: str) -> Path | None:
    """The local snapshot folder holding a Hub model's retrieval files, or None when they cannot be had."""
    from huggingface_hub import hf_hub_download

    from k8s_data import BANK_FILE_NAME, RETRIEVAL_CONFIG_NAME

    try:
        paths = [Path(hf_hub_download(repo_id, name)) for name in (RETRIEVAL_CONFIG_NAME, BANK_FILE_NAME)]
    except (OSError, ValueError) as err:  # offline and not cached, no such repo or file, not a repo id
        logger.warning("cannot fetch the retrieval files of %s (%s)", repo_id, type(err).__name__)
        return None
    return paths[0].parent


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
    with _no_progress_bars():  # a "Loading weights" bar on every CLI call and every evaluated model is noise
        model = AutoModelForSeq2SeqLM.from_pretrained(model_name_or_path, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(model_name_or_path, trust_remote_code=True)
    model.to(device).eval()
    model_type = model_type_of_config(model.config)
    is_dual = model_type == "dual"
    logger.info("loaded %s (%s) on %s", model_name_or_path, model_type, device)
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        is_dual=is_dual,
        name_or_path=str(model_name_or_path),
        **_training_limits(str(model_name_or_path)),
    )


def encode_inputs(
    loaded: LoadedModel, intent: str, pattern: str, *, max_source_length: int, max_pattern_length: int
) -> dict[str, list[int]]:
    """Token ids of one example exactly as training encodes it (`dual_codet5.collate.encode_example`), in the format
    `loaded.is_dual` says.

    Returns:
        `input_ids` (and `pattern_input_ids` for the dual model), each ending with `</s>`.
    """
    from dual_codet5.collate import encode_example

    return encode_example(
        intent,
        pattern,
        None,
        loaded.tokenizer,
        model_type="dual" if loaded.is_dual else "single",  # every single-encoder model reads the same sequence
        max_source_length=max_source_length,
        max_pattern_length=max_pattern_length,
        max_target_length=max_source_length,  # unused without a target
    )


def _pad(seqs: list[list[int]], pad_id: int, eos_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad to `(batch, max_len)` ids and attention mask; an empty sequence becomes a lone `</s>`."""
    seqs = [s if s else [eos_id] for s in seqs]  # the encoder needs one position to attend to
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids.to(device), mask.to(device)


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
    max_source_length: int | None = None,
    max_pattern_length: int | None = None,
    early_stop: bool | StopRules = True,
    max_time: float | None = None,
    lookup_bonus: float = 0.0,
    lookup_max_ngram: int = 8,
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
        max_source_length: intent tokens kept (a single-encoder model keeps `max_source_length + max_pattern_length` of
            intent and pattern together, as training does). Default: the model's own training value
            (`loaded.max_source_length`), else 128.
        max_pattern_length: pattern tokens kept (dual model). Default: the training value, else 256.
        early_stop: stop each sequence when it degenerates or its YAML breaks, and cut what follows
            (`dual_codet5.stopping`; True = `StopRules()`, a `StopRules` to tune, False = off).
        max_time: wall-time budget in seconds per intent (None = none): a `generate` call on `b` intents stops
            after `b * max_time` s (transformers' `MaxTimeCriteria`) and returns what each sequence has so far. With a
            budget the output depends on the machine's speed: leave it off for evaluation.
        lookup_bonus: exemplar lookup (`dual_codet5.lookup`): add this many nats to the tokens that continue the
            longest match of the output's last tokens in the pattern (the whole pattern text, not cut at
            `max_pattern_length`). For exemplar patterns only; 0 = off.
        lookup_max_ngram: longest suffix looked up.
        **generate_kwargs: passed to `model.generate`.

    Returns:
        `n` lists of `num_return_sequences` decoded YAML strings each, in input order.
    """
    n = len(intents)
    patterns = [""] * n if patterns is None else list(patterns)
    if len(patterns) != n:
        raise ValueError(f"got {n} intents but {len(patterns)} patterns")
    # transformers returns at most num_beams sequences whenever num_beams > 1 (beam search or beam sampling)
    if num_return_sequences > num_beams and (num_beams > 1 or not do_sample):
        raise ValueError(
            f"num_return_sequences={num_return_sequences} needs num_beams >= it, or do_sample=True with num_beams=1 "
            f"(got num_beams={num_beams}, do_sample={do_sample})"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    tok, model = loaded.tokenizer, loaded.model
    if max_source_length is None:
        max_source_length = loaded.max_source_length or DEFAULT_MAX_SOURCE_LENGTH
    if max_pattern_length is None:
        max_pattern_length = loaded.max_pattern_length or DEFAULT_MAX_PATTERN_LENGTH
    encoded = [
        encode_inputs(loaded, i, p, max_source_length=max_source_length, max_pattern_length=max_pattern_length)
        for i, p in zip(intents, patterns)
    ]
    lengths = [sum(len(ids) for ids in enc.values()) for enc in encoded]
    order = sorted(range(n), key=lambda k: -lengths[k])  # stable: equal lengths keep input order
    outputs: list[list[str]] = [[] for _ in range(n)]
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    eos_id = tok.eos_token_id if tok.eos_token_id is not None else pad_id
    gen = {
        "max_new_tokens": max_new_tokens,
        "num_beams": num_beams,
        "do_sample": do_sample,
        "num_return_sequences": num_return_sequences,
        **generate_kwargs,
    }
    rules = StopRules() if early_stop is True else (early_stop or None)
    stopping = StoppingCriteriaList([ManifestStoppingCriteria(tok, rules)]) if rules is not None else None
    if max_time is not None and max_time <= 0:
        raise ValueError(f"max_time must be > 0 seconds per intent (or None), got {max_time}")
    exemplars = None
    if lookup_bonus > 0:
        exemplars = [tok(p, add_special_tokens=False, verbose=False)["input_ids"] if p else [] for p in patterns]
    cut_reasons: Counter[str] = Counter()
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        inputs = {}
        inputs["input_ids"], inputs["attention_mask"] = _pad(  # (batch, source_len)
            [encoded[k]["input_ids"] for k in idx], pad_id, eos_id, model.device
        )
        if loaded.is_dual:
            inputs["pattern_input_ids"], inputs["pattern_attention_mask"] = _pad(  # (batch, pattern_len)
                [encoded[k]["pattern_input_ids"] for k in idx], pad_id, eos_id, model.device
            )
        call = dict(gen)
        if stopping is not None:
            call["stopping_criteria"] = stopping
        if max_time is not None:
            call["max_time"] = max_time * len(idx)  # the budget of the whole call: b intents, max_time s each
        if exemplars is not None:
            lookup = ExemplarLookupLogitsProcessor([exemplars[k] for k in idx], lookup_bonus, eos_id, lookup_max_ngram)
            call["logits_processor"] = LogitsProcessorList([*call.get("logits_processor", []), lookup])
        out = model.generate(**inputs, **call)  # (batch * num_return_sequences, out_len), grouped per input
        # no clean-up: it rewrites spaces around punctuation, and YAML indentation and ': ' are significant
        decoded = tok.batch_decode(out, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        if rules is not None:
            ended = (out[:, 1:] == eos_id).any(dim=1).tolist()  # position 0 is the decoder start token
            for j, (text, eos) in enumerate(zip(decoded, ended)):
                decoded[j], reason = finish_text(text, eos, rules)
                if reason:
                    cut_reasons[reason] += 1
        for j, k in enumerate(idx):
            outputs[k] = decoded[j * num_return_sequences : (j + 1) * num_return_sequences]
        logger.debug("generated %d / %d", min(start + batch_size, n), n)
    if cut_reasons:
        logger.info("early stop cut %d of %d outputs: %s", sum(cut_reasons.values()), n * num_return_sequences,
                    dict(cut_reasons))  # fmt: skip
    return outputs
