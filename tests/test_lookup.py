"""Exemplar lookup (dual_codet5.lookup): the alignment of an output to its exemplar, the bonus, and generation.

Token ids in the alignment tests are small integers written as exemplar lines: 10 = "\\n", the rest are words.
"""

from __future__ import annotations

import pytest
import torch

from dual_codet5.lookup import ExemplarLookupLogitsProcessor, advance, default_bonus, expected_tokens
from k8s_data import RetrievalConfig
from tests.test_fallback import junk_model, model_with_bank  # noqa: F401  (fixtures)

NL = 10
# "name: web \n replicas: 3 \n labels: app \n labels: tier \n"
EXEMPLAR = [1, 2, NL, 3, 4, NL, 5, 6, NL, 5, 7, NL]


def align(generated: list[int], max_ngram: int = 8) -> tuple[int, int]:
    state = (0, 0)
    for t in range(1, len(generated) + 1):
        state = advance(EXEMPLAR, state, generated[:t], max_ngram)
    return state


def test_alignment_follows_the_exemplar_token_by_token():
    assert align([1, 2, NL]) == (3, 3)
    assert align(EXEMPLAR) == (len(EXEMPLAR), len(EXEMPLAR))  # at the end: </s> is expected


def test_an_edit_goes_off_the_exemplar_and_the_next_line_realigns():
    # "replicas: 5" instead of 3: off after the 5, back on at the newline that ends the edited line
    assert align([1, 2, NL, 3, 99]) == (-1, 4)
    assert align([1, 2, NL, 3, 99, NL]) == (6, 6)


def test_realignment_never_goes_back_to_an_earlier_copy_of_a_repeated_line():
    # after the second "labels:" line the pointer is past both; a loop writing "labels:" again finds nothing later
    done = EXEMPLAR[:] + [5]
    assert align(done) == (-1, len(EXEMPLAR))
    # while at the first "labels:", the longest suffix picks the right one of two identical keys
    assert align([1, 2, NL, 3, 4, NL, 5, 6, NL, 5]) == (10, 10)


def test_processor_adds_the_bonus_to_the_expected_token_of_every_row():
    processor = ExemplarLookupLogitsProcessor([EXEMPLAR, []], bonus=2.0, eos_token_id=0)
    # two inputs, two beams each: rows 0-1 belong to the first input, 2-3 to the second (empty exemplar)
    input_ids = torch.tensor([[0, 1, 2], [0, 1, 99], [0, 1, 2], [0, 5, 5]])
    out = processor(input_ids, torch.zeros(4, 100))
    assert out[0].nonzero().flatten().tolist() == [NL] and out[0, NL] == 2.0  # on the exemplar: its next token
    assert out[1].abs().sum() == 0  # off the exemplar after an edit: no bonus
    assert out[2:].abs().sum() == 0  # nothing to look up
    first = processor(torch.zeros(4, 1, dtype=torch.long), torch.zeros(4, 100))
    assert first[0, 1] == 2.0 and first[1, 1] == 2.0  # the first step favours the exemplar's first token
    end = processor(torch.tensor([[0, *EXEMPLAR]] * 4), torch.zeros(4, 100))
    assert end[0, 0] == 2.0  # the exemplar is done: </s>
    with pytest.raises(ValueError, match="multiple"):
        processor(torch.zeros(3, 2, dtype=torch.long), torch.zeros(3, 100))
    with pytest.raises(ValueError, match="bonus"):
        ExemplarLookupLogitsProcessor([EXEMPLAR], bonus=0.0, eos_token_id=0)


def test_default_bonus_only_for_exemplar_patterns():
    assert default_bonus(RetrievalConfig(pattern_format="exemplar")) > 0
    assert default_bonus(RetrievalConfig(pattern_format="skeleton")) == 0


@pytest.mark.parametrize("num_beams", [1, 2])
def test_a_large_bonus_makes_a_random_model_copy_its_exemplar(model_with_bank, num_beams):  # noqa: F811
    from dual_codet5.inference import generate_yaml, load_for_inference
    from tests.test_fallback import CRONJOB, INTENT

    folder, _, _ = model_with_bank
    loaded = load_for_inference(str(folder), device="cpu")
    plain = generate_yaml(loaded, [INTENT], [CRONJOB], num_beams=num_beams, max_new_tokens=300, early_stop=False)
    copied = generate_yaml(
        loaded, [INTENT], [CRONJOB], num_beams=num_beams, max_new_tokens=300, early_stop=False, lookup_bonus=1e4
    )
    assert plain[0][0].strip() != CRONJOB.strip()  # the random model alone writes junk
    assert copied[0][0].strip() == CRONJOB.strip()


def test_generate_turns_the_lookup_on_for_exemplar_models_only(model_with_bank, junk_model):  # noqa: F811
    from dual_codet5.generate import _default_lookup_bonus
    from dual_codet5.inference import load_for_inference
    from dual_codet5.lookup import DEFAULT_BONUS

    folder, _, _ = model_with_bank  # saved with exemplar retrieval settings
    loaded = load_for_inference(str(folder), device="cpu")
    assert _default_lookup_bonus(loaded) == DEFAULT_BONUS
    assert loaded._retrieval is None  # the settings were read without building the pattern bank
    assert loaded.retrieval_config == loaded.retrieval[1]  # ... and are those the bank is loaded with
    junk = load_for_inference(str(junk_model), device="cpu")
    assert junk.retrieval_config is None and _default_lookup_bonus(junk) == 0.0  # no retrieval files


def test_expected_tokens_replays_what_the_processor_did():
    # the processor's bonus at every step of a generation equals the replayed expectation (RL's policy log-probs)
    generated = [1, 2, NL, 3, 99, NL, 5, 6, NL, 5, 7, NL, 0]  # an edit ("99") and back, then </s>
    processor = ExemplarLookupLogitsProcessor([EXEMPLAR], bonus=1.0, eos_token_id=0)
    seen = []
    for t in range(len(generated)):
        out = processor(torch.tensor([[0, *generated[:t]]]), torch.zeros(1, 100))
        seen.append(int(out[0].argmax()) if out.abs().sum() else -1)
    assert expected_tokens(EXEMPLAR, generated, eos_token_id=0) == seen
    assert seen[4] == 4 and seen[5] == -1 and seen[-1] == 0  # expected "4", off after the edit, </s> at the end
    assert expected_tokens([], generated, eos_token_id=0) == [-1] * len(generated)


def test_rl_logprobs_with_the_lookup_are_those_of_the_biased_distribution():
    from dual_codet5.rl import gather_token_logprobs

    torch.manual_seed(0)
    logits = torch.randn(3, 5, 11)
    tokens = torch.randint(0, 11, (3, 5))
    expected = torch.randint(-1, 11, (3, 5))
    expected[0, :3] = tokens[0, :3]  # some positions where the sample took the bonus token
    bonus, temperature = 4.0, 0.7
    onehot = torch.zeros_like(logits)
    on = expected >= 0
    onehot[on.nonzero(as_tuple=True) + (expected[on],)] = bonus
    explicit = torch.log_softmax((logits + onehot) / temperature, -1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    got = gather_token_logprobs(logits, tokens, temperature, expected, bonus)
    torch.testing.assert_close(got, explicit)
    # no lookup: the plain tempered log-probs
    plain = torch.log_softmax(logits / temperature, -1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(gather_token_logprobs(logits, tokens, temperature), plain)
    torch.testing.assert_close(gather_token_logprobs(logits, tokens, temperature, expected, 0.0), plain)


@pytest.mark.parametrize(("bonus", "temperature"), [(10.0, 0.1), (100.0, 1.0), (4.0, 0.05)])
def test_rl_lookup_logprobs_stay_finite_for_large_bonus_over_temperature(bonus, temperature):
    # b = bonus / T beyond float32's exp range (e^100): the naive log1p(p_e * expm1(b)) gives nan where p_e = 0
    from dual_codet5.rl import gather_token_logprobs

    torch.manual_seed(1)
    logits = torch.randn(2, 4, 7) * 20
    tokens = torch.randint(0, 7, (2, 4))
    expected = torch.randint(0, 7, (2, 4))
    onehot = torch.zeros(2, 4, 7, dtype=torch.float64)
    onehot.scatter_(-1, expected.unsqueeze(-1), bonus)
    explicit = torch.log_softmax((logits.double() + onehot) / temperature, -1).gather(-1, tokens.unsqueeze(-1))
    got = gather_token_logprobs(logits, tokens, temperature, expected, bonus)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got.double(), explicit.squeeze(-1), rtol=1e-4, atol=1e-3)
