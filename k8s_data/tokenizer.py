"""Training a byte-level BPE tokenizer like CodeT5's, with CodeT5's special tokens and ids.

CodeT5 (Wang et al., 2021) uses a RoBERTa-style byte-level BPE: every byte is in the alphabet, so any text
(indentation, newlines, quotes, unicode) encodes without `<unk>` and decodes back exactly. Special tokens and ids
follow CodeT5: `<pad>`=0, `<s>`=1, `</s>`=2, `<unk>`=3, `<mask>`=4. The post-processor appends `</s>` (T5-style
inputs and targets: the model's docs/interfaces.md contract).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

logger = logging.getLogger(__name__)

SPECIAL_TOKENS: tuple[str, ...] = ("<pad>", "<s>", "</s>", "<unk>", "<mask>")


def train_tokenizer(
    texts: Iterable[str], vocab_size: int, *, min_frequency: int = 2, model_max_length: int = 512
) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on `texts`.

    Args:
        texts: Training text (e.g. the train split's YAML and intents).
        vocab_size: Target vocabulary size including the 5 special tokens and the 256 byte symbols.
        min_frequency: Minimum pair frequency for a merge.
        model_max_length: Stored as the tokenizer's `model_max_length`.

    Returns:
        A `PreTrainedTokenizerFast` with `pad`/`bos`/`eos`/`unk`/`mask` tokens at ids 0-4 whose encodings end with
        `</s>`; `decode(ids, skip_special_tokens=True)` gives back the text exactly.
    """
    if vocab_size < len(SPECIAL_TOKENS) + 256:
        raise ValueError(f"vocab_size must be at least {len(SPECIAL_TOKENS) + 256} (specials + byte alphabet)")
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    # add_prefix_space=False keeps the first line's indentation and the text exactly as given
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    eos_id = tokenizer.token_to_id("</s>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", eos_id)]
    )
    for index, token in enumerate(SPECIAL_TOKENS):  # the trainer puts specials first; CodeT5's ids depend on it
        if tokenizer.token_to_id(token) != index:
            raise RuntimeError(f"special token {token} got id {tokenizer.token_to_id(token)}, expected {index}")
    logger.info("trained a byte-level BPE tokenizer with %d tokens", tokenizer.get_vocab_size())
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        mask_token="<mask>",
        model_max_length=model_max_length,
        clean_up_tokenization_spaces=False,
    )
