"""Exemplar lookup: a decoding-time copy prior that keeps the output on the retrieved manifest unless the model
disagrees with confidence.

Each output sequence is aligned to its exemplar (the retrieved train manifest the model reads as its pattern) as it
grows: a pointer `p` marks the exemplar token expected next. While the output follows the exemplar the pointer
advances one token per step, and `bonus` is added to the score of the expected token (`</s>` at the exemplar's
end). Where the model writes something else (an edit: a name from the intent, another replica count), the sequence is
*off* the exemplar and gets no bonus until its recent tokens are found again in the exemplar *after* the last aligned
position: the longest such suffix (up to `max_ngram` tokens), earliest position first, re-aligns it. So the output
copies the exemplar where the model agrees or hesitates, edits it where the model's own preference beats the bonus,
skips what the model leaves out, and never jumps back to an earlier copy of a repeated line (`labels:` occurs several
times in a Deployment; small models loop there).

`bonus = 0` is the model alone; a very large bonus reproduces the exemplar. It is prompt-lookup decoding used as a
prior rather than as a speculative draft. With a copy model the scores are normalised log-probabilities and the bonus
is in nats.

`ExemplarLookupLogitsProcessor` is a `transformers.LogitsProcessor`. Alignments are kept per generated prefix (the
row's own tokens), not per row, so it is right for greedy search, sampling and beam search (whose rows are re-ordered
candidates at every step).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import LogitsProcessor

__all__ = [
    "DEFAULT_BONUS", "Alignment", "ExemplarLookupLogitsProcessor", "advance", "default_bonus", "expected_tokens",
]

#: the bonus `dual-codet5 generate` uses for models trained on exemplar patterns, chosen on the validation split
#: for what users get, the model's own answer (docs/decoding.md, "Exemplar lookup")
DEFAULT_BONUS = 10.0

# (pointer to the exemplar token expected next, or -1 when off the exemplar; first exemplar position a re-alignment
# may use)
Alignment = tuple[int, int]


def advance(exemplar: Sequence[int], state: Alignment, generated: Sequence[int], max_ngram: int) -> Alignment:
    """The alignment after the last token of `generated`, from the alignment before it.

    Args:
        exemplar: the exemplar's token ids (without `</s>`).
        state: `(pointer, floor)` before the token; the start state is `(0, 0)`.
        generated: the output tokens so far (decoder start token excluded), the newest last.
        max_ngram: the longest suffix of `generated` looked up to re-align.

    Returns:
        `(pointer, floor)`: `pointer` is the exemplar position expected next (`len(exemplar)`: `</s>`), `-1` off the
        exemplar; `floor` is the position after the last aligned token.
    """
    pointer, floor = state
    token = generated[-1]
    if 0 <= pointer < len(exemplar) and exemplar[pointer] == token:
        return pointer + 1, pointer + 1
    # an edit (or still off the exemplar): look the recent tokens up after the last aligned position
    for n in range(min(max_ngram, len(generated)), 0, -1):
        suffix = list(generated[-n:])
        for start in range(floor, len(exemplar) - n + 1):
            if exemplar[start : start + n] == suffix:
                return start + n, start + n
    return -1, floor


def expected_tokens(
    exemplar: Sequence[int], tokens: Sequence[int], eos_token_id: int, max_ngram: int = 8
) -> list[int]:
    """The token the lookup expected (and gave the bonus to) at each position of a finished output, -1 where the
    output was off the exemplar: what `ExemplarLookupLogitsProcessor` did while `tokens` were generated, replayed.

    Used by RL, whose policy is the model with the lookup (`dual_codet5.rl.gather_token_logprobs`).

    Args:
        exemplar: the exemplar's token ids (without `</s>`); empty: -1 everywhere.
        tokens: the generated tokens (decoder start token excluded), up to and including `</s>`.
        eos_token_id: expected at the end of the exemplar.
        max_ngram: as in `ExemplarLookupLogitsProcessor`.

    Returns:
        One token id or -1 per position of `tokens`.
    """
    if not exemplar:
        return [-1] * len(tokens)
    out: list[int] = []
    state: Alignment = (0, 0)
    for t in range(len(tokens)):
        if t:
            state = advance(exemplar, state, tokens[:t], max_ngram)
        pointer = state[0]
        out.append(-1 if pointer < 0 else exemplar[pointer] if pointer < len(exemplar) else eos_token_id)
    return out


class ExemplarLookupLogitsProcessor(LogitsProcessor):
    r"""
    Args:
        exemplars (`Sequence[Sequence[int]]`):
            Token ids of each input's exemplar (without `</s>`), one per input of the `generate` call, in batch
            order; an empty exemplar leaves its rows alone.
        bonus (`float`):
            Added to the score of the exemplar token expected next (> 0).
        eos_token_id (`int`):
            Expected at the end of the exemplar.
        max_ngram (`int`, *optional*, defaults to 8):
            Longest suffix of the output looked up to re-align after an edit.
    """

    def __init__(
        self, exemplars: Sequence[Sequence[int]], bonus: float, eos_token_id: int, max_ngram: int = 8
    ) -> None:
        if bonus <= 0:
            raise ValueError(f"bonus must be > 0 (0 means no lookup: leave the processor out), got {bonus}")
        if max_ngram < 1:
            raise ValueError(f"max_ngram must be >= 1, got {max_ngram}")
        self.exemplars = [list(e) for e in exemplars]
        self.bonus = float(bonus)
        self.eos_token_id = eos_token_id
        self.max_ngram = max_ngram
        self._states: dict[tuple[int, ...], Alignment] = {}  # (input index, *generated tokens) -> alignment

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        r"""
        Args:
            input_ids (`torch.LongTensor` of shape `(batch_size * rows_per_input, step)`): the decoder tokens so
                far (position 0 is the decoder start token).
            scores (`torch.FloatTensor` of shape `(batch_size * rows_per_input, vocab_size)`).

        Returns:
            `torch.FloatTensor` of the same shape, `bonus` added to each row's expected token.
        """
        rows, step = input_ids.shape
        batch = len(self.exemplars)
        if batch == 0 or rows % batch:
            raise ValueError(f"{rows} rows for {batch} exemplars: rows must be a multiple of the exemplars")
        per_input = rows // batch
        states: dict[tuple[int, ...], Alignment] = {}
        expected = []  # (row, token id)
        for row, ids in enumerate(input_ids[:, 1:].tolist()):
            example = row // per_input
            exemplar = self.exemplars[example]
            if not exemplar:
                continue
            key = (example, *ids)
            if not ids:
                state = (0, 0)
            else:
                previous = self._states.get(key[:-1])
                if previous is None:  # not seen at the last step (first call, or a resumed prefix): replay it
                    previous = (0, 0)
                    for t in range(1, len(ids)):
                        previous = advance(exemplar, previous, ids[:t], self.max_ngram)
                state = advance(exemplar, previous, ids, self.max_ngram)
            states[key] = state
            pointer = state[0]
            if pointer >= 0:
                expected.append((row, exemplar[pointer] if pointer < len(exemplar) else self.eos_token_id))
        self._states = states  # only the last step's prefixes are needed next
        if not expected:
            return scores
        index = torch.as_tensor(expected, dtype=torch.long, device=scores.device)  # (n, 2): row, token
        bonus = torch.zeros_like(scores)
        bonus[index[:, 0], index[:, 1]] = self.bonus
        return scores + bonus


def default_bonus(config: object) -> float:
    """`DEFAULT_BONUS` for a model whose retrieval settings (`k8s_data.RetrievalConfig`) serve exemplar patterns,
    else 0 (a skeleton pattern is no text to copy)."""
    return DEFAULT_BONUS if getattr(config, "pattern_format", None) == "exemplar" else 0.0
