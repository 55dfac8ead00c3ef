"""When to stop generating a manifest, and what to keep of it.

A small model often does not write `</s>` after a finished manifest: it repeats a key (`labels:` again and again), a
list item, or a line of a script, or writes a line that breaks the YAML, until `max_new_tokens` runs out. Beam search
then pays for `num_beams` such runs (issue 12 measured 99.5 s for one intent on 2 cores). These rules stop a sequence
as soon as its text can only get worse, and `finish_text` cuts what was written after that point.

The rules read the *complete lines* of the text (up to its last newline), outside block scalars (`key: |`):

* ``duplicate_key``: a mapping key occurs a second time in the same mapping (the same key at the same indentation with
  no less-indented line and no new list item in between). Kubernetes rejects such a manifest (`kubectl` and the API
  server decode YAML strictly: "key already set in map"), so nothing after it can be right.
* ``repeated_item``: a list item (the item line and the lines indented under it) is identical to ``max_repeats - 1``
  earlier items of the same list. Checked when the item ends (the next item or a line indented less than its dash
  begins); ``finish_text`` also checks the last item.
* ``repeated_line``: inside a block scalar, the same line ``max_repeats`` times in a row.
* ``broken_yaml``: the text no longer parses as YAML and the error is not "the text ended early" (an unclosed quote
  or flow collection may still be closed by a later line; a wrong indentation cannot). No continuation can make such
  a text valid.

Blank lines and comment lines are ignored by the repetition rules. A rule that fires at line ``i`` keeps the text
before the first line to drop: the duplicate key's line, the first line of the ``max_repeats``-th identical item,
the ``max_repeats``-th repeated line, or the line YAML's error points at.

`ManifestStoppingCriteria` applies the rules during `generate` (a `transformers.StoppingCriteria`: one bool per row of
`input_ids`, recomputed from the row's own tokens, so it is right for greedy search, sampling and beam search, whose
rows are re-ordered candidates at every step). `finish_text` is applied to each decoded output afterwards.

Example:

```python
>>> text = "metadata:\\n  labels:\\n    app: web\\n  labels:\\n    app: web\\n"
>>> find_stop(text)
StopPoint(reason='duplicate_key', line=3, offset=33)
>>> text[:33]
'metadata:\\n  labels:\\n    app: web\\n'

```
"""

from __future__ import annotations

import logging
import re
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch
import yaml
from transformers import StoppingCriteria

logger = logging.getLogger(__name__)

__all__ = [
    "StopRules",
    "StopPoint",
    "find_stop",
    "finish_text",
    "longest_valid_prefix",
    "ManifestStoppingCriteria",
    "newline_token_mask",
]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A mapping key at the start of a line's content: a plain key (not starting with an indicator) or a quoted one,
# followed by ':' and a space or the end of the line.
_KEY_RE = re.compile(
    r"""^(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s'"#\[\]{},&*!|>%@`-][^#]*?|-[^\s#][^#]*?)\s*:(?:\s|$)"""
)
# A value that starts a block scalar (`key: |`, `key: >-`, `- |2`), optionally followed by a comment.
_BLOCK_SCALAR_RE = re.compile(r"[|>][-+0-9]*\s*(?:#.*)?")
_DOCUMENT_MARKERS = ("---", "...")


@dataclass(frozen=True)
class StopRules:
    """Which rules apply (see the module docstring).

    Args:
        max_repeats: identical list items / block-scalar lines that count as degenerate (>= 2).
        duplicate_keys: stop at a mapping key repeated in its mapping.
        broken_yaml: stop when the text can no longer become valid YAML.
        valid_prefix: `finish_text` also cuts an output that did not end with `</s>` and is not schema-valid to its
            longest schema-valid prefix. Off by default: with a weak model that prefix is often a stub (`kind: Pod`,
            `metadata`, an empty `spec`) that is schema-valid but not what was asked, and it would make invalid
            answers look valid in the exit status and in evaluation.
    """

    max_repeats: int = 3
    duplicate_keys: bool = True
    broken_yaml: bool = True
    valid_prefix: bool = False

    def __post_init__(self) -> None:
        if self.max_repeats < 2:
            raise ValueError(f"max_repeats must be >= 2, got {self.max_repeats}")


@dataclass(frozen=True)
class StopPoint:
    """Where a text stops being worth continuing.

    Args:
        reason: ``"duplicate_key"``, ``"repeated_item"``, ``"repeated_line"`` or ``"broken_yaml"``.
        line: 0-based index of the first line to drop.
        offset: character offset of that line: ``text[:offset]`` is what to keep.
    """

    reason: str
    line: int
    offset: int


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _yaml_break_line(text: str) -> int | None:
    """0-based line of a YAML error that no continuation can repair, or None when `text` parses (or may still)."""
    try:
        for _ in yaml.load_all(text, Loader=_LOADER):
            pass
    except yaml.MarkedYAMLError as err:
        problem = f"{err.problem or ''} {err.context or ''}"
        if "end of stream" in problem or "stream end" in problem:
            return None  # an unclosed quote / flow collection: a later line may close it
        mark = err.problem_mark or err.context_mark
        return mark.line if mark is not None else None
    except yaml.YAMLError:
        return None  # no position to cut at: leave it to the length and time limits
    return None


class _Scanner:
    """One pass over the lines; remembers what the repetition rules need."""

    def __init__(self, lines: list[str], rules: StopRules) -> None:
        self.lines = lines
        self.rules = rules
        self.maps: list[tuple[int, dict[str, int]]] = []  # open mappings: (key column, key -> line)
        self.seqs: list[tuple[int, list[str], int]] = []  # open lists: (dash column, finished items, current start)
        self.scalar_parent: int | None = None  # column that block-scalar content must be indented beyond
        self.scalar_run: tuple[str, int] = ("", 0)  # (last scalar line, times in a row)

    def _item_text(self, start: int, end: int) -> str:
        body = [line.rstrip() for line in self.lines[start:end]]
        while body and not body[-1].strip():
            body.pop()
        return "\n".join(body)

    def _finish_item(self, seq_index: int, end: int) -> StopPoint | None:
        col, items, start = self.seqs[seq_index]
        text = self._item_text(start, end)
        if items.count(text) + 1 >= self.rules.max_repeats:
            return StopPoint("repeated_item", start, 0)
        items.append(text)
        return None

    def _close(self, column: int, end: int, *, keep_equal_seq: bool) -> StopPoint | None:
        """Close the lists and mappings that a line starting at `column` ends."""
        while self.maps and self.maps[-1][0] > column:
            self.maps.pop()
        while self.seqs and (self.seqs[-1][0] > column or (self.seqs[-1][0] == column and not keep_equal_seq)):
            stop = self._finish_item(len(self.seqs) - 1, end)
            self.seqs.pop()
            if stop:
                return stop
        return None

    def line(self, i: int) -> StopPoint | None:
        raw = self.lines[i].rstrip("\n").rstrip()
        stripped = raw.strip()
        column = _indent(raw)
        if self.scalar_parent is not None:
            if not stripped or column > self.scalar_parent:
                if not stripped:
                    return None
                last, run = self.scalar_run
                run = run + 1 if raw == last else 1
                self.scalar_run = (raw, run)
                return StopPoint("repeated_line", i, 0) if run >= self.rules.max_repeats else None
            self.scalar_parent = None
        if not stripped or stripped.startswith("#"):
            return None
        if column == 0 and (stripped in _DOCUMENT_MARKERS or stripped.startswith("--- ")):
            stop = self._close(-1, i, keep_equal_seq=False)  # a new document: everything is closed
            return stop
        is_item = stripped == "-" or stripped.startswith("- ")
        stop = self._close(column, i, keep_equal_seq=is_item)
        if stop:
            return stop
        content, key_column = stripped, column
        if is_item:
            if self.seqs and self.seqs[-1][0] == column:
                stop = self._finish_item(len(self.seqs) - 1, i)
                if stop:
                    return stop
                self.seqs[-1] = (column, self.seqs[-1][1], i)
            else:
                self.seqs.append((column, [], i))
            while self.maps and self.maps[-1][0] >= column + 1:
                self.maps.pop()  # the previous item's mapping
            rest = content[1:]
            key_column = column + 1 + (len(rest) - len(rest.lstrip(" ")))
            content = rest.strip()
        match = _KEY_RE.match(content)
        if match and self.rules.duplicate_keys:
            key = match.group("key").strip()
            if not self.maps or self.maps[-1][0] != key_column:
                self.maps.append((key_column, {}))
            keys = self.maps[-1][1]
            if key in keys:
                return StopPoint("duplicate_key", i, 0)
            keys[key] = i
        value = content[match.end() :].strip() if match else (content if is_item else "")
        if _BLOCK_SCALAR_RE.fullmatch(value):
            self.scalar_parent = key_column if match else column
            self.scalar_run = ("", 0)
        return None

    def finish(self) -> StopPoint | None:
        """End of the text: the open list items are complete."""
        while self.seqs:
            stop = self._finish_item(len(self.seqs) - 1, len(self.lines))
            self.seqs.pop()
            if stop:
                return stop
        return None


@lru_cache(maxsize=8192)
def _find_stop_cached(text: str, rules: StopRules, final: bool) -> StopPoint | None:
    if final:
        lines = text.splitlines(keepends=True)
    else:
        complete = text[: text.rfind("\n") + 1]
        lines = complete.splitlines(keepends=True)
    if not lines:
        return None
    scanner = _Scanner(lines, rules)
    stop = None
    for i in range(len(lines)):
        stop = scanner.line(i)
        if stop:
            break
    if stop is None and final:
        stop = scanner.finish()
    if rules.broken_yaml:
        end = stop.line if stop else len(lines)
        broken = _yaml_break_line("".join(lines[:end]))
        if broken is not None and broken < end:
            stop = StopPoint("broken_yaml", broken, 0)
    if stop is None:
        return None
    offset = sum(len(line) for line in lines[: stop.line])
    return StopPoint(stop.reason, stop.line, offset)


def find_stop(text: str, rules: StopRules | None = None, *, final: bool = False) -> StopPoint | None:
    """The earliest point at which `text` stops being worth continuing, or None.

    Args:
        text: generated YAML so far.
        rules: which rules apply (default `StopRules()`).
        final: the text is complete (generation ended): its last line counts even without a newline, and its last
            list items are checked too. During generation (False) only the lines up to the last newline count.

    Returns:
        A `StopPoint` (keep ``text[:point.offset]``) or None.
    """
    return _find_stop_cached(text, rules or StopRules(), final)


def _schema_valid(text: str) -> bool:
    from k8s_scoring import validate

    return bool(text.strip()) and bool(validate(text).schema_valid)


def longest_valid_prefix(text: str, max_checks: int = 400) -> str | None:
    """The longest prefix of whole lines of `text` that is schema-valid Kubernetes YAML, or None.

    Trailing document separators and blank lines are dropped from the result. At most `max_checks` prefixes are
    validated (the longest first), and only those that parse as YAML.
    """
    lines = text.splitlines(keepends=True)
    checks = 0
    for end in range(len(lines), 0, -1):
        last = lines[end - 1].strip()
        if not last or last.startswith("#") or last in _DOCUMENT_MARKERS:
            continue
        candidate = "".join(lines[:end])
        try:
            list(yaml.load_all(candidate, Loader=_LOADER))
        except yaml.YAMLError:
            continue
        checks += 1
        if _schema_valid(candidate):
            return candidate if candidate.endswith("\n") else candidate + "\n"
        if checks >= max_checks:
            break
    return None


def finish_text(text: str, ended_with_eos: bool, rules: StopRules | None = None) -> tuple[str, str | None]:
    """What to keep of one generated output.

    1. Cut at the earliest stop point (`find_stop(text, final=True)`).
    2. Only with ``rules.valid_prefix``: if the output did not end with `</s>` (it was stopped by a rule, the length
       limit or the time budget) and what is left is not schema-valid, keep its longest schema-valid prefix of whole
       lines, when there is one.

    Args:
        text: the decoded output.
        ended_with_eos: whether the model wrote `</s>` itself.
        rules: which rules apply (default `StopRules()`).

    Returns:
        `(text, reason)`: the kept text and why it was cut (a `StopPoint.reason`, ``"valid_prefix"``), or None when
        it was kept whole.
    """
    rules = rules or StopRules()
    reason = None
    stop = find_stop(text, rules, final=True)
    if stop is not None:
        text, reason = text[: stop.offset], stop.reason
    if not rules.valid_prefix:
        return text, reason
    if (not ended_with_eos or stop is not None) and text.strip() and not _schema_valid(text):
        prefix = longest_valid_prefix(text)
        if prefix is not None and prefix != text:
            text, reason = prefix, reason or "valid_prefix"
    return text, reason


_NEWLINE_MASKS: weakref.WeakKeyDictionary[Any, torch.Tensor] = weakref.WeakKeyDictionary()


def newline_token_mask(tokenizer: Any) -> torch.Tensor:
    """`torch.BoolTensor` of shape `(len(tokenizer),)`: True for the tokens whose text contains a newline.

    Cached per tokenizer object (decoding the whole vocabulary once takes ~0.1 s for 32k tokens).
    """
    try:
        return _NEWLINE_MASKS[tokenizer]
    except (KeyError, TypeError):
        pass
    texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))], clean_up_tokenization_spaces=False)
    mask = torch.tensor(["\n" in t for t in texts], dtype=torch.bool)
    try:
        _NEWLINE_MASKS[tokenizer] = mask
    except TypeError:
        pass
    return mask


class ManifestStoppingCriteria(StoppingCriteria):
    """Stop each sequence as soon as `find_stop` finds a stop point in its complete lines.

    Checked only for the rows whose newest token contains a newline (a line was just completed), so the cost is one
    decode and one scan per completed line. Stateless: the answer for a row depends only on its tokens, which is what
    beam search needs (its rows are the `2 * num_beams` candidates of each step, re-ordered every step; a candidate
    that stops is finished like one that wrote `</s>`).

    Args:
        tokenizer: the model's tokenizer (decodes the rows).
        rules: which rules apply (default `StopRules()`).
    """

    def __init__(self, tokenizer: Any, rules: StopRules | None = None) -> None:
        self.tokenizer = tokenizer
        self.rules = rules or StopRules()
        self.newline = newline_token_mask(tokenizer)

    def __call__(self, input_ids: torch.LongTensor, scores: Any = None, **kwargs: Any) -> torch.BoolTensor:
        """
        Args:
            input_ids (`torch.LongTensor` of shape `(batch_size, sequence_length)`): the sequences so far.

        Returns:
            `torch.BoolTensor` of shape `(batch_size,)`: True where the sequence should stop.
        """
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        if input_ids.shape[1] == 0:
            return done
        last = input_ids[:, -1].cpu()
        newline = self.newline
        in_vocab = (last >= 0) & (last < newline.numel())
        rows = (in_vocab & newline[last.clamp(0, newline.numel() - 1)]).nonzero().flatten().tolist()
        if not rows:
            return done
        texts = self.tokenizer.batch_decode(
            input_ids[rows].cpu(), skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        for row, text in zip(rows, texts):
            if find_stop(text, self.rules) is not None:
                done[row] = True
        return done
