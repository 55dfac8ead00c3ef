"""dual_codet5.stopping: when a generated manifest stops being worth continuing, and what of it is kept.

The rules are checked on hand-written texts; the stopping criterion inside `generate` (greedy, beam search, the time
budget) on a tiny random DualCodeT5 whose next token is scripted by a logits processor, with a tokenizer whose tokens
are whole YAML lines, so that every step completes one line.
"""

from __future__ import annotations

import time

import pytest
import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import LogitsProcessor, LogitsProcessorList, PreTrainedTokenizerFast, StoppingCriteriaList

from dual_codet5.inference import LoadedModel, generate_yaml
from dual_codet5.stopping import (
    ManifestStoppingCriteria,
    StopPoint,
    StopRules,
    find_stop,
    finish_text,
    longest_valid_prefix,
    newline_token_mask,
)

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
"""


def stop(reason: str, text: str, line: int) -> StopPoint:
    """The expected stop point: cut before 0-based `line` of `text`."""
    return StopPoint(reason, line, sum(len(x) for x in text.splitlines(keepends=True)[:line]))


DUP_LABELS = "metadata:\n  name: web\n  labels:\n    app: web\n  labels:\n    app: web\n"
ITEMS = "drop:\n- ALL\n- ALL\n- ALL\nkind: Pod\n"
SCRIPT = "data:\n  run.sh: |\n    set -e\n    echo hi\n    echo hi\n    echo hi\n"
BROKEN = "metadata:\n  name: web\n   labels: {}\nkind: Pod\n"

CASES = [
    # (text, final, expected); why in the comment
    # a finished manifest: nothing to stop
    (DEPLOYMENT, True, None),
    # the failure: `labels:` again in the same mapping; cut before the second one
    (DUP_LABELS, False, stop("duplicate_key", DUP_LABELS, 4)),
    # the same key in different mappings (two list items, two documents) is fine
    ("containers:\n- name: a\n  image: x\n- name: b\n  image: x\n", True, None),
    ("kind: Service\n---\nkind: Service\n", True, None),
    # ... and so is the same key in sibling mappings separated by a less-indented line
    ("a:\n  name: x\nb:\n  name: x\n", True, None),
    # duplicate top-level key: a second manifest glued on without `---`
    ("apiVersion: v1\nkind: Pod\napiVersion: v1\n", False, stop("duplicate_key", "apiVersion: v1\nkind: Pod\n", 2)),
    # three identical list items: cut before the third (two are kept); only known once the third item ended
    (ITEMS, False, stop("repeated_item", ITEMS, 3)),
    ("drop:\n- ALL\n- ALL\n- ALL\n", False, None),  # the third item may still grow: no decision yet
    ("drop:\n- ALL\n- ALL\n- ALL\n", True, stop("repeated_item", ITEMS, 3)),  # end of text: it is complete
    # two identical items are allowed (max_repeats 3)
    ("drop:\n- ALL\n- ALL\nkind: Pod\n", True, None),
    # items that share their first line but differ below are different items (three TCP ports)
    ("ports:\n- protocol: TCP\n  port: 80\n- protocol: TCP\n  port: 443\n- protocol: TCP\n  port: 8080\n", True, None),
    # a line repeated three times in a row inside a block scalar
    (SCRIPT, False, stop("repeated_line", SCRIPT, 5)),
    # block-scalar content is not YAML structure: repeated `}` lines and duplicate "keys" there are text
    ("data:\n  nginx.conf: |\n    a {\n    }\n    b {\n    }\n    c {\n    }\n", True, None),
    ("data:\n  app.yaml: |\n    a: 1\n    a: 2\nkind: ConfigMap\n", True, None),
    # ... until the scalar ends: a key after it counts again
    ("data:\n  x: |\n    a\nkind: A\nkind: B\n", False, stop("duplicate_key", "data:\n  x: |\n    a\nkind: A\n", 4)),
    # a wrong indentation breaks the YAML for good: cut at the line YAML points at
    (BROKEN, False, stop("broken_yaml", BROKEN, 2)),
    # an unclosed flow mapping or quote may still be closed by the next line: no stop
    ("metadata: {name: web,\n", False, None),
    ('command: ["sh", "-c",\n', False, None),
    # only complete lines count during generation: the partial last line is not judged yet
    ("metadata:\n  name: a\n  name", False, None),
    # comments and blank lines are ignored by the repetition rules
    ("a: 1\n# a: 1\n\nb: 2\n", True, None),
]


@pytest.mark.parametrize(("text", "final", "expected"), CASES)
def test_find_stop(text, final, expected):
    assert find_stop(text, final=final) == expected


def test_rules_can_be_tuned():
    # max_repeats 2: two identical items already count; duplicate_keys off: the key rule is silent
    assert find_stop("drop:\n- ALL\n- ALL\nkind: Pod\n", StopRules(max_repeats=2)).reason == "repeated_item"
    assert find_stop(DUP_LABELS, StopRules(duplicate_keys=False)) is None
    assert find_stop(BROKEN, StopRules(broken_yaml=False)) is None
    with pytest.raises(ValueError, match="max_repeats"):
        StopRules(max_repeats=1)


def test_finish_text():
    # a degenerate run is cut, and what is left is the valid manifest
    looping = DEPLOYMENT + "        image: nginx:1.27\n" * 3
    assert finish_text(looping, ended_with_eos=False) == (DEPLOYMENT, "duplicate_key")
    # nothing to cut: kept whole, whether or not the model wrote </s>
    truncated = DEPLOYMENT + "---\napiVersion: v1\nkind: Service\nmetadata:\n  na"
    assert finish_text(truncated, ended_with_eos=False) == (truncated, None)
    assert finish_text(truncated, ended_with_eos=True) == (truncated, None)
    # opt-in: an output cut by the length limit falls back to its longest schema-valid prefix ...
    with_prefix = StopRules(valid_prefix=True)
    assert finish_text(truncated, ended_with_eos=False, rules=with_prefix) == (DEPLOYMENT, "valid_prefix")
    # ... but not when the model wrote </s> itself: an invalid answer is its answer (the judge says what is wrong)
    assert finish_text(truncated, ended_with_eos=True, rules=with_prefix) == (truncated, None)
    # nothing valid to fall back on: the text is kept
    assert finish_text("kind: ing\nmetadata:\n", False, with_prefix) == ("kind: ing\nmetadata:\n", None)
    assert longest_valid_prefix("not: [a kubernetes object\n") is None


# ------------------------------------------------------------------------------ inside generate
LINES = [
    "apiVersion: v1\n", "kind: ConfigMap\n", "metadata:\n", "  name: demo\n", "  labels:\n", "    app: web\n",
    "data:\n", "  a: b\n", "- item\n",
]  # fmt: skip
SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]
PAD, EOS = 0, 2


@pytest.fixture(scope="module")
def line_tokenizer() -> PreTrainedTokenizerFast:
    """Every token is a whole line (newline included) or a special token; decoding concatenates."""
    vocab = {tok: i for i, tok in enumerate([*SPECIALS, *LINES])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[^\n]*\n"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )


def ids(tokenizer, *lines: str) -> list[int]:
    return [tokenizer.convert_tokens_to_ids(line) for line in lines]


VALID = ("apiVersion: v1\n", "kind: ConfigMap\n", "metadata:\n", "  name: demo\n")
LOOP = ("metadata:\n", "  labels:\n", "    app: web\n") + ("  labels:\n", "    app: web\n") * 200
NUMBERED = ("data:\n",) + ("  a: b\n",) * 400  # a duplicate key from the third line on


class Script(LogitsProcessor):
    """Forces each row to follow one of `scripts` (chosen by its first token), then `</s>`; at the first step the
    scripts start with the given log-probabilities. A row at the end of its script or off every script may only
    write `</s>`."""

    def __init__(self, scripts: list[tuple[list[int], float]], delay: float = 0.0):
        self.scripts = scripts  # (token ids, log-prob of its first token at the first step)
        self.delay = delay

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        time.sleep(self.delay)
        out = torch.full_like(scores, float("-inf"))
        for row, seq in enumerate(input_ids[:, 1:].tolist()):  # drop the decoder start token
            allowed = {}
            for tokens, first in self.scripts:
                if seq == tokens[: len(seq)] and len(seq) < len(tokens):
                    allowed[tokens[len(seq)]] = first if not seq else 0.0
            out[row, list(allowed) or [EOS]] = torch.tensor(list(allowed.values()) or [0.0])
        return out


@pytest.fixture(scope="module")
def loaded(line_tokenizer) -> LoadedModel:
    from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration
    from modeling_dual_codet5.presets import preset_config

    torch.manual_seed(0)
    config = preset_config("tiny", vocab_size=len(line_tokenizer), pad_token_id=PAD, eos_token_id=EOS,
                           decoder_start_token_id=PAD)  # fmt: skip
    model = DualCodeT5ForConditionalGeneration(config).eval()
    return LoadedModel(model=model, tokenizer=line_tokenizer, is_dual=True)


def test_newline_mask_marks_line_tokens(line_tokenizer):
    mask = newline_token_mask(line_tokenizer)
    assert mask.tolist() == [False] * len(SPECIALS) + [True] * len(LINES)
    assert newline_token_mask(line_tokenizer) is mask  # cached per tokenizer


def test_criterion_answers_per_row(line_tokenizer):
    # one bool per row, from the row's own tokens: only the looping row stops
    criterion = ManifestStoppingCriteria(line_tokenizer)
    rows = [
        [PAD, *ids(line_tokenizer, *VALID)],  # a valid prefix: go on
        [PAD, *ids(line_tokenizer, *LOOP[:4])],  # the second `labels:`: stop
        [PAD, *ids(line_tokenizer, *VALID[:3]), PAD],  # last token is no line end: not checked
        [PAD, PAD, *ids(line_tokenizer, *NUMBERED[:3])],  # `a:` twice: stop (pads are skipped)
    ]
    done = criterion(torch.tensor(rows), None)
    assert done.dtype == torch.bool and done.tolist() == [False, True, False, True]


def test_beam_search_stops_each_beam_on_its_own(loaded, line_tokenizer):
    # two beams: the better-scored one loops (duplicate `labels:`), the other writes a valid manifest and </s>.
    # Without early stop the loop runs to max_new_tokens and wins; with it, that beam is finished at its duplicate
    # line, the other beam still runs to its own end, and both come back (cut) in score order.
    model, tok = loaded.model, line_tokenizer
    intent = {"input_ids": torch.tensor([[3, EOS]]), "pattern_input_ids": torch.tensor([[3, EOS]])}

    def script() -> LogitsProcessorList:
        return LogitsProcessorList([Script([(ids(tok, *LOOP), 0.0), (ids(tok, *VALID), -1.0)])])

    common = {"num_beams": 2, "num_return_sequences": 2, "max_new_tokens": 60, "do_sample": False}
    plain = model.generate(**intent, logits_processor=script(), **common)
    assert plain.shape[1] == 61  # the loop ran to the length limit
    stopped = model.generate(
        **intent, logits_processor=script(), stopping_criteria=StoppingCriteriaList([ManifestStoppingCriteria(tok)]),
        **common,
    )  # fmt: skip
    texts = tok.batch_decode(stopped, skip_special_tokens=True)
    assert texts[0] == "".join(LOOP[:4])  # stopped right after the duplicate key line
    assert texts[1] == "".join(VALID) and EOS in stopped[1].tolist()  # not stopped by its neighbour

    out = generate_yaml(loaded, ["x"], [""], num_beams=2, num_return_sequences=2, max_new_tokens=60,
                        logits_processor=script())  # fmt: skip
    assert out == [["".join(LOOP[:3]), "".join(VALID)]]  # the duplicate line is cut away
    off = generate_yaml(loaded, ["x"], [""], num_beams=2, num_return_sequences=2, max_new_tokens=60,
                        logits_processor=script(), early_stop=False)  # fmt: skip
    assert off[0][0] == "".join(LOOP[:60])


def test_greedy_batch_stops_rows_independently(loaded, line_tokenizer):
    # greedy on two intents at once: both follow the looping script here, each is stopped and cut on its own;
    # the third output (valid script) ends with </s> and is kept whole
    tok = line_tokenizer
    proc = LogitsProcessorList([Script([(ids(tok, *NUMBERED), 0.0)])])
    out = generate_yaml(loaded, ["a", "b"], ["", ""], num_beams=1, max_new_tokens=100, logits_processor=proc)
    assert out == [["data:\n  a: b\n"], ["data:\n  a: b\n"]]


def test_time_budget_per_intent(loaded, line_tokenizer):
    # a row that never stops on its own (early stop off) and a slow model (20 ms per step): the 0.2 s budget ends it
    # long before max_new_tokens (400 steps would take 8 s)
    tok = line_tokenizer
    proc = LogitsProcessorList([Script([(ids(tok, *NUMBERED), 0.0)], delay=0.02)])
    start = time.perf_counter()
    out = generate_yaml(loaded, ["a"], [""], num_beams=1, max_new_tokens=400, logits_processor=proc,
                        early_stop=False, max_time=0.2)  # fmt: skip
    elapsed = time.perf_counter() - start
    lines = out[0][0].count("\n")
    assert 1 <= lines < 100 and elapsed < 4.0
    with pytest.raises(ValueError, match="max_time"):
        generate_yaml(loaded, ["a"], [""], max_time=0)
