"""Byte-level BPE tokenizer: CodeT5 special ids, `</s>` appended, exact round trip of YAML text."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from k8s_data.corpus import load_corpus
from k8s_data.tokenizer import train_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    texts = [r.yaml for r in load_corpus()[:300]]
    return train_tokenizer(texts, vocab_size=800)


YAML_CASES = [
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n",  # plain
    "  indented: first line\n\tkey:\t'tab'\n\n\n",  # leading spaces, tabs, blank lines
    'args: ["--port=80", "a \\"quoted\\" b"]\ncommand: \'it\'\'s\'\n',  # quotes of both kinds
    "description: héllo 日本語 🚀 ünïcode\n",  # unicode outside the training text
    "script: |\n  #!/bin/sh\n  echo $HOME && exit 0\r\n",  # block scalar, CRLF
]


def test_special_tokens_have_codet5_ids(tokenizer):
    assert tokenizer.convert_ids_to_tokens([0, 1, 2, 3, 4]) == ["<pad>", "<s>", "</s>", "<unk>", "<mask>"]
    assert (tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (
        0, 1, 2, 3,
    )


@pytest.mark.parametrize("text", YAML_CASES)
def test_exact_round_trip(tokenizer, text):
    ids = tokenizer(text).input_ids
    assert ids[-1] == tokenizer.eos_token_id and ids.count(tokenizer.eos_token_id) == 1
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.decode(ids, skip_special_tokens=True) == text


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=80))
def test_round_trip_any_text(tokenizer, text):
    assert tokenizer.decode(tokenizer(text).input_ids, skip_special_tokens=True) == text


def test_save_and_reload(tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    for text in YAML_CASES:
        assert reloaded(text).input_ids == tokenizer(text).input_ids
    assert reloaded.mask_token == "<mask>" and reloaded.pad_token_id == 0


def test_vocab_size_too_small():
    with pytest.raises(ValueError, match="at least 261"):
        train_tokenizer(["a"], vocab_size=100)
