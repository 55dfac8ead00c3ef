"""DualCodeT5 with `copy_mechanism=True` (pointer-generator): the mixture, every `generate` path, saving, training.

Tiny configs built in code as in `test_modeling_dual_codet5.py` (vocab 99, d_model 32, 2 layers, 4 heads). The
generation tests use a tiny copy model first trained to memorise four (intent, pattern) -> target examples, whose
targets are partly copied from the pattern, so that outputs are varied sequences that depend on the copy head.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForSeq2SeqLM, T5Config, T5ForConditionalGeneration
from transformers.modeling_outputs import BaseModelOutput

from modeling_dual_codet5 import DualCodeT5Config, DualCodeT5ForConditionalGeneration
from modeling_dual_codet5.presets import count_parameters, preset_config
from tests.test_modeling_dual_codet5 import _FRESH_PROCESS_SCRIPT, pad_right, strip

PAD, EOS = 0, 2
MAX_NEW = 8

# Targets copy pattern tokens (61-65 appear in pattern 0, 71-74 in pattern 1, ...) and intent tokens (example 3 has
# an EMPTY pattern, so its target 21 22 comes from the intent).
INTENTS = [[11, 12, 13, 14, 15, 16, 17], [11, 12, 13, 14, 15, 16, 17], [21, 22, 23, 24, 25], [21, 22, 23, 24, 25]]
PATTERNS = [[31, 61, 62, 63, 64, 65], [71, 72, 41, 73], [51, 81, 82, 83, 84, 85, 86], []]
TARGETS = [[61, 62, 63, 64, 65, EOS], [71, 72, 73, 74, EOS], [81, 82, 83, 84, 85, 86, EOS], [21, 22, 93, EOS]]


def copy_config(**overrides) -> DualCodeT5Config:
    return preset_config("tiny", **{"dropout_rate": 0.0, "fusion_dropout": 0.0, "copy_mechanism": True, **overrides})


def make_batch(intents, patterns, targets) -> dict[str, torch.Tensor]:
    input_ids, attention_mask = pad_right(intents)
    pattern_input_ids, pattern_attention_mask = pad_right(patterns)
    labels, label_mask = pad_right(targets)
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "pattern_input_ids": pattern_input_ids,
        "pattern_attention_mask": pattern_attention_mask,
        "labels": labels.masked_fill(label_mask == 0, -100),
    }


@pytest.fixture(scope="module")
def batch() -> dict[str, torch.Tensor]:
    return make_batch(INTENTS, PATTERNS, TARGETS)


def gen_inputs(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in batch.items() if k != "labels"}


@pytest.fixture(scope="module")
def trained(batch) -> DualCodeT5ForConditionalGeneration:
    torch.manual_seed(0)
    model = DualCodeT5ForConditionalGeneration(copy_config())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def with_gate(model: DualCodeT5ForConditionalGeneration, bias: float) -> DualCodeT5ForConditionalGeneration:
    """A copy of the model whose gate logit is the constant `bias` (p_gen = sigmoid(bias))."""
    clone = DualCodeT5ForConditionalGeneration(model.config).eval()
    clone.load_state_dict(model.state_dict())
    with torch.no_grad():
        clone.copy_head.gate_weight.zero_()
        clone.copy_head.gate_bias.fill_(bias)
    return clone


# ----------------------------------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("overrides", "error", "fragment"),
    [
        ({"copy_mechanism": "yes"}, TypeError, "copy_mechanism must be a bool"),  # a YAML/JSON string is not a bool
        ({"copy_from": "target"}, ValueError, "copy_from must be one of ('memory', 'intent', 'pattern')"),
    ],
)
def test_config_validation(overrides, error, fragment):
    with pytest.raises(error) as info:
        copy_config(**overrides)
    assert fragment in str(info.value)


def test_config_default_has_no_copy_head_and_parameters_are_counted():
    plain = DualCodeT5ForConditionalGeneration(preset_config("tiny"))
    assert plain.config.copy_mechanism is False and plain.copy_head is None
    model = DualCodeT5ForConditionalGeneration(copy_config())
    counts = count_parameters(model)
    # query and previous-token query d x d (no bias) + gate 2d -> 1 (with bias): 2 * 32 * 32 + 64 + 1
    assert counts.copy == 2 * 32 * 32 + 2 * 32 + 1 == 2113
    assert counts.total == count_parameters(plain).total + counts.copy


# ------------------------------------------------------------------------------------------- the distribution


def test_logits_are_normalised_log_probabilities(trained, batch):
    with torch.no_grad():
        out = trained(**batch)
    assert out.logits.dtype == torch.float32
    torch.testing.assert_close(out.logits.logsumexp(-1), torch.zeros(out.logits.shape[:2]), rtol=0, atol=1e-5)
    assert torch.isfinite(out.logits).all()
    assert out.p_gen.shape == batch["labels"].shape and ((out.p_gen > 0) & (out.p_gen <= 1)).all()
    # the loss is the NLL of the labels under these log-probabilities
    mask = batch["labels"] != -100
    expected = -out.logits.gather(-1, batch["labels"].clamp(min=0)[..., None])[..., 0][mask].mean()
    torch.testing.assert_close(out.loss, expected)


def test_gate_extremes_give_pure_generation_and_pure_copy(trained, batch):
    with torch.no_grad():
        # p_gen = 1: exactly log_softmax of the LM head, i.e. the same weights without the copy head
        generate_only = with_gate(trained, 40.0)(**batch).logits
        plain = DualCodeT5ForConditionalGeneration(copy_config(copy_mechanism=False)).eval()
        plain.load_state_dict({k: v for k, v in trained.state_dict().items() if not k.startswith("copy_head.")})
        torch.testing.assert_close(generate_only, plain(**batch).logits.log_softmax(-1), rtol=1e-5, atol=1e-5)
        # p_gen = 0: all mass on the ids present (unpadded) in that example's intent + pattern
        copy_only = with_gate(trained, -40.0)(**batch).logits
    for i, (intent, pattern) in enumerate(zip(INTENTS, PATTERNS)):
        present = sorted(set(intent) | set(pattern))
        probs = copy_only[i].exp()  # (T, V)
        torch.testing.assert_close(probs[:, present].sum(-1), torch.ones(probs.shape[0]), rtol=0, atol=1e-5)
        absent = [t for t in range(99) if t not in present]
        assert probs[:, absent].max() < 1e-30, i  # padding (id 0) is absent: it gets no copy mass


def test_padding_gets_no_copy_mass(trained, batch):
    """Changing the ids under the padding mask changes nothing (they are never copied)."""
    noisy = dict(batch)
    noisy["input_ids"] = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, 77)
    noisy["pattern_input_ids"] = batch["pattern_input_ids"].masked_fill(batch["pattern_attention_mask"] == 0, 78)
    with torch.no_grad():
        torch.testing.assert_close(trained(**noisy).logits, trained(**batch).logits, rtol=0, atol=0)
        encoded = trained.get_encoder()(**gen_inputs(batch))
    expected = torch.cat([batch["input_ids"], batch["pattern_input_ids"]], dim=1)
    mask = torch.cat([batch["attention_mask"], batch["pattern_attention_mask"]], dim=1)
    assert torch.equal(encoded.copy_input_ids, expected.masked_fill(mask == 0, -1))


@pytest.mark.parametrize(
    ("copy_from", "example", "copyable"),
    [
        # only the pattern: example 0 can copy its pattern ids, not its intent ids
        ("pattern", 0, PATTERNS[0]),
        # only the intent: example 0 can copy its intent ids, not its pattern ids
        ("intent", 0, INTENTS[0]),
        # only the pattern, but example 3 has none: nothing to copy, p_gen is forced to 1 (no NaN from an empty
        # softmax)
        ("pattern", 3, []),
    ],
)
def test_copy_from_restricts_the_copy_source(batch, copy_from, example, copyable):
    torch.manual_seed(0)
    model = with_gate(DualCodeT5ForConditionalGeneration(copy_config(copy_from=copy_from)).eval(), -40.0)
    with torch.no_grad():
        out = model(**batch)
    probs = out.logits[example].exp()
    assert torch.isfinite(out.logits).all()
    if copyable:
        torch.testing.assert_close(probs[:, copyable].sum(-1), torch.ones(probs.shape[0]), rtol=0, atol=1e-5)
        assert torch.all(out.p_gen[example] < 1e-6)
    else:
        torch.testing.assert_close(out.p_gen[example], torch.ones(probs.shape[0]))
        torch.testing.assert_close(probs.sum(-1), torch.ones(probs.shape[0]), rtol=0, atol=1e-5)


def test_gradients_reach_the_gate_and_the_copy_head(batch):
    torch.manual_seed(0)
    model = DualCodeT5ForConditionalGeneration(copy_config()).train()
    out = model(**batch)
    out.loss.backward()
    for name in (
        "copy_head.query_weight",
        "copy_head.previous_query_weight",
        "copy_head.gate_weight",
        "copy_head.gate_bias",
    ):
        grad = model.get_parameter(name).grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, name
    for name, param in model.named_parameters():  # and every other parameter still learns
        assert param.grad is not None and torch.isfinite(param.grad).all() and param.grad.abs().sum() > 0, name


def test_copy_head_is_initialised_at_unit_scale():
    torch.manual_seed(0)
    model = DualCodeT5ForConditionalGeneration(copy_config(d_model=64, d_kv=16))
    head = model.copy_head
    # generic HF init would give std 1.0 (initializer_factor); ours: d^-0.5 and (2d)^-0.5, zero gate bias
    assert abs(head.query_weight.std().item() - 64**-0.5) < 0.1 * 64**-0.5
    assert abs(head.previous_query_weight.std().item() - 64**-0.5) < 0.1 * 64**-0.5
    assert abs(head.gate_weight.std().item() - 128**-0.5) < 0.3 * 128**-0.5
    assert torch.all(head.gate_bias == 0)


# ------------------------------------------------------------------------------------------------- generation


@pytest.mark.parametrize("cache_implementation", ["dynamic", "static"])
def test_cached_greedy_equals_uncached(trained, batch, cache_implementation):
    inputs = gen_inputs(batch)
    uncached = trained.generate(**inputs, max_new_tokens=MAX_NEW, do_sample=False, use_cache=False)
    cached = trained.generate(
        **inputs, max_new_tokens=MAX_NEW, do_sample=False, use_cache=True, cache_implementation=cache_implementation
    )
    assert torch.equal(cached, uncached)
    assert [strip(row) for row in uncached] == TARGETS  # memorised, copied tokens included


def test_cached_decoder_steps_find_the_copy_ids(trained, batch):
    """Step-by-step decoding with a cache (what generate does: decoder-only forwards) equals one full forward."""
    labels = batch["labels"].clamp(min=0)
    decoder_input_ids = trained._shift_right(labels)
    with torch.no_grad():
        full = trained(**gen_inputs(batch), decoder_input_ids=decoder_input_ids).logits
        encoder_outputs = trained.get_encoder()(**gen_inputs(batch))
        cache, steps = None, []
        for t in range(decoder_input_ids.shape[1]):
            out = trained(
                encoder_outputs=encoder_outputs, decoder_input_ids=decoder_input_ids[:, t : t + 1], cache=cache,
                use_cache=True,
            )  # fmt: skip
            cache = out.cache
            steps.append(out.logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), full, rtol=1e-4, atol=1e-4)


def test_padded_batch_equals_one_by_one(trained, batch):
    batched = trained.generate(**gen_inputs(batch), max_new_tokens=MAX_NEW, do_sample=False)
    with torch.no_grad():
        batched_logits = trained(**batch).logits
    for i, (intent, pattern) in enumerate(zip(INTENTS, PATTERNS)):
        single = {"input_ids": torch.tensor([intent])}
        if pattern:
            single["pattern_input_ids"] = torch.tensor([pattern])
        alone = trained.generate(**single, max_new_tokens=MAX_NEW, do_sample=False)
        assert strip(alone[0]) == strip(batched[i]), i
        with torch.no_grad():
            logits = trained(**single, labels=torch.tensor([TARGETS[i]])).logits[0]
        torch.testing.assert_close(logits, batched_logits[i, : len(TARGETS[i])], rtol=1e-4, atol=1e-4)


def test_copy_ids_are_expanded_with_the_beams(trained, batch):
    encoder_outputs = trained.get_encoder()(**gen_inputs(batch))
    ids = encoder_outputs.copy_input_ids.clone()
    _, kwargs = trained._expand_inputs_for_generation(
        expand_size=3, is_encoder_decoder=True, encoder_outputs=encoder_outputs
    )
    assert torch.equal(kwargs["encoder_outputs"].copy_input_ids, ids.repeat_interleave(3, dim=0))
    assert kwargs["encoder_outputs"].last_hidden_state.shape[0] == 12


def test_beam_search_with_num_return_sequences(trained, batch):
    inputs = gen_inputs(batch)
    beams = trained.generate(
        **inputs, max_new_tokens=MAX_NEW, num_beams=4, num_return_sequences=3, output_scores=True,
        return_dict_in_generate=True,
    )  # fmt: skip
    assert beams.sequences.shape[0] == 4 * 3
    best = trained.generate(**inputs, max_new_tokens=MAX_NEW, num_beams=4)
    for i in range(4):
        assert strip(beams.sequences[3 * i]) == strip(best[i]) == TARGETS[i]
        assert len({tuple(s.tolist()) for s in beams.sequences[3 * i : 3 * i + 3]}) == 3
    assert torch.equal(trained.generate(**inputs, max_new_tokens=MAX_NEW, num_beams=4, use_cache=False), best)


def test_sampling_and_transition_scores(trained, batch):
    inputs = gen_inputs(batch)
    kwargs = {"max_new_tokens": MAX_NEW, "do_sample": True, "top_k": 20, "top_p": 0.95, "temperature": 1.5,
              "num_return_sequences": 2}  # fmt: skip
    torch.manual_seed(123)
    first = trained.generate(**inputs, **kwargs)
    torch.manual_seed(123)
    assert first.shape[0] == 8 and torch.equal(first, trained.generate(**inputs, **kwargs))
    # greedy scores are the model's own log-probabilities: compute_transition_scores without renormalising gives
    # log p(chosen token), and renormalising changes nothing
    out = trained.generate(
        **inputs, max_new_tokens=MAX_NEW, do_sample=False, output_scores=True, return_dict_in_generate=True
    )
    raw = trained.compute_transition_scores(out.sequences, out.scores, normalize_logits=False)
    renormalised = trained.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
    finite = torch.isfinite(raw)  # steps after EOS are padding (-inf scores are not produced: pads are scored)
    torch.testing.assert_close(raw[finite], renormalised[finite], rtol=0, atol=1e-5)
    with torch.no_grad():
        logits = trained(**inputs, decoder_input_ids=out.sequences[:, :-1]).logits
    direct = logits.gather(-1, out.sequences[:, 1:, None])[..., 0]
    torch.testing.assert_close(raw, direct, rtol=1e-4, atol=1e-4)


def test_rl_tempered_logprobs_are_the_tempered_mixture(trained, batch):
    """train_rl.py scores tokens with log_softmax(logits / T): with log-probability logits that is p^(1/T)."""
    from dual_codet5.rl import gather_token_logprobs

    with torch.no_grad():
        logits = trained(**batch).logits
    tokens = batch["labels"].clamp(min=0)
    torch.testing.assert_close(
        gather_token_logprobs(logits, tokens, 1.0), logits.gather(-1, tokens[..., None])[..., 0], rtol=0, atol=1e-5
    )
    tempered = (logits.exp() ** (1 / 0.7)) / (logits.exp() ** (1 / 0.7)).sum(-1, keepdim=True)
    torch.testing.assert_close(
        gather_token_logprobs(logits, tokens, 0.7), tempered.log().gather(-1, tokens[..., None])[..., 0]
    )


def test_plain_encoder_outputs_rebuild_the_copy_ids(trained, batch):
    """A plain tuple / BaseModelOutput memory has no copy ids: they are rebuilt from input_ids, or a clear error."""
    intent = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    encoded = trained.get_encoder()(**intent)  # no pattern: the memory is the intent, so the intent mask fits it
    with torch.no_grad():
        reference = trained(**intent, labels=batch["labels"]).logits
        as_tuple = trained(**intent, encoder_outputs=(encoded.last_hidden_state,), labels=batch["labels"]).logits
    torch.testing.assert_close(as_tuple, reference, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="needs the memory's token ids"):
        trained(encoder_outputs=BaseModelOutput(last_hidden_state=encoded.last_hidden_state), labels=batch["labels"])
    with pytest.raises(ValueError, match="but the memory in encoder_outputs has"):  # ids that do not fit the memory
        trained(**gen_inputs(batch), encoder_outputs=(encoded.last_hidden_state,), labels=batch["labels"])


# ------------------------------------------------------------------------------------------- saving, precision


def test_save_then_load_as_remote_code_in_fresh_process(trained, batch, tmp_path):
    model_dir = tmp_path / "model"
    trained.save_pretrained(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    assert config["copy_mechanism"] is True and config["copy_from"] == "memory"
    save_file({k: v.contiguous() for k, v in batch.items()}, tmp_path / "inputs.safetensors")
    repo = str(Path(__file__).resolve().parents[1])
    prologue = (
        f"REPO = {repo!r}\nMODEL_DIR = {str(model_dir)!r}\nINPUTS = {str(tmp_path / 'inputs.safetensors')!r}\n"
        f"OUTPUTS = {str(tmp_path / 'outputs.safetensors')!r}\nMAX_NEW = {MAX_NEW}\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HOME=str(tmp_path / "hf_home"), OMP_NUM_THREADS="2")
    result = subprocess.run(
        [sys.executable, "-c", prologue + _FRESH_PROCESS_SCRIPT],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "transformers_modules" in json.loads(result.stdout.strip().splitlines()[-1])["class"]
    outputs = load_file(tmp_path / "outputs.safetensors")
    with torch.no_grad():
        torch.testing.assert_close(outputs["logits"], trained(**batch).logits, rtol=0, atol=0)
    greedy = trained.generate(**gen_inputs(batch), max_new_tokens=MAX_NEW, do_sample=False)
    beam = trained.generate(**gen_inputs(batch), max_new_tokens=MAX_NEW, num_beams=3, num_return_sequences=2)
    assert torch.equal(outputs["greedy"], greedy)
    assert torch.equal(outputs["beam"], beam)


def test_in_package_reload_keeps_the_copy_head(trained, batch, tmp_path):
    trained.save_pretrained(tmp_path)
    loaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    assert isinstance(loaded, DualCodeT5ForConditionalGeneration) and loaded.copy_head is not None
    with torch.no_grad():
        torch.testing.assert_close(loaded(**batch).logits, trained(**batch).logits, rtol=0, atol=0)


def test_bf16_forward_and_generate_are_finite(trained, batch):
    model = DualCodeT5ForConditionalGeneration(trained.config)
    model.load_state_dict(trained.state_dict())
    model = model.to(torch.bfloat16).eval()
    with torch.no_grad():
        out = model(**batch)
    # the mixture is computed in float32, so log-probabilities stay normalised and finite (no log 0)
    assert out.logits.dtype == torch.float32 and torch.isfinite(out.logits).all() and torch.isfinite(out.loss)
    torch.testing.assert_close(out.logits.logsumexp(-1), torch.zeros(out.logits.shape[:2]), rtol=0, atol=1e-5)
    assert model.generate(**gen_inputs(batch), max_new_tokens=MAX_NEW, num_beams=2).shape[0] == 4


def test_fp16_load_is_finite(trained, batch, tmp_path):
    trained.save_pretrained(tmp_path)
    model = AutoModelForSeq2SeqLM.from_pretrained(tmp_path, dtype=torch.float16)
    try:
        with torch.no_grad():
            out = model(**batch)
    except RuntimeError as err:  # pragma: no cover - depends on the CPU build
        pytest.skip(f"fp16 matmul unsupported on this CPU build: {err}")
    assert torch.isfinite(out.logits).all() and torch.isfinite(out.loss)


def test_from_codet5_reports_the_copy_head_as_freshly_initialised(tmp_path):
    torch.manual_seed(1)
    t5_config = T5Config(
        vocab_size=99, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
        relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=2, decoder_start_token_id=0,
    )  # fmt: skip
    T5ForConditionalGeneration(t5_config).save_pretrained(tmp_path / "t5")
    model = DualCodeT5ForConditionalGeneration.from_codet5(
        str(tmp_path / "t5"), fusion_num_heads=4, copy_mechanism=True
    )
    report = model.codet5_init_report
    new = sorted(k for k in model.state_dict() if k.startswith(("encoder.fusion.", "copy_head.")))
    assert report["missing"] == new
    assert {
        "copy_head.query_weight",
        "copy_head.previous_query_weight",
        "copy_head.gate_weight",
        "copy_head.gate_bias",
    } <= set(report["missing"])
    assert abs(model.copy_head.query_weight.std().item() - 32**-0.5) < 0.2 * 32**-0.5  # our init, not std 1


# ------------------------------------------------------------------------------------------- training wiring


@pytest.mark.parametrize(
    ("flag", "config_overrides", "expected"),
    [
        (None, None, {}),  # not set: the preset / checkpoint decides
        (True, None, {"copy_mechanism": True}),
        (False, "copy_mechanism=true,d_model=64", {"copy_mechanism": False, "d_model": 64}),  # the flag wins
        (None, "copy_mechanism=true", {"copy_mechanism": True}),  # the override string alone also works
    ],
)
def test_model_arguments_pass_copy_mechanism(flag, config_overrides, expected):
    from dual_codet5.training_args import ModelArguments

    assert ModelArguments(copy_mechanism=flag, config_overrides=config_overrides).overrides() == expected


def test_build_model_copy_flag_dual_and_baseline():
    from dual_codet5.train_utils import build_model
    from dual_codet5.training_args import ModelArguments

    class Tok:  # what build_model reads from a tokenizer
        pad_token_id, eos_token_id = 0, 2

        def __len__(self) -> int:
            return 99

    dual = build_model(ModelArguments(init_from="tiny", copy_mechanism=True), Tok())
    assert dual.config.copy_mechanism and dual.copy_head is not None
    # the baseline shares the run's flags in the pipeline; plain T5 cannot copy, so the flag is dropped
    baseline = build_model(ModelArguments(model_type="baseline", init_from="tiny", copy_mechanism=True), Tok())
    assert isinstance(baseline, T5ForConditionalGeneration)


def test_model_card_says_whether_the_model_copies(trained, tmp_path):
    from dual_codet5.hub import write_model_card

    trained.save_pretrained(tmp_path / "copy")
    card = write_model_card(tmp_path / "copy").read_text()
    assert "It copies: a pointer-generator head" in card and "- pointer-generator" in card
    plain = DualCodeT5ForConditionalGeneration(copy_config(copy_mechanism=False))
    plain.save_pretrained(tmp_path / "plain")
    card = write_model_card(tmp_path / "plain").read_text()
    assert "It does not copy" in card and "pointer-generator\n" not in card


# ------------------------------------------------------------------------------------------- the synthetic task
# Targets are spans of random ids marked in the pattern: `pattern = noise BEGIN span END noise`, `target = span EOS`.
# Training spans use ids from the lower half of the vocabulary, the evaluation spans ONLY ids from the upper half:
# never seen as targets (nor anywhere) in training, so only a model that points can produce them. The shared input
# embedding is frozen at its random initialisation for both models, so unseen ids look like seen ones (a trained
# embedding would move away from the untouched rows and make the task about embedding drift, not pointing), and the
# LM head is untied: a head tied to a frozen random embedding lets a plain model "copy" any id by reproducing its
# embedding (measured: 62 % for the model without copy head at 600 steps), which is not the skill under test.
SYN_VOCAB, SYN_BEGIN, SYN_END = 1000, 3, 4


def synthetic_examples(n: int, ids: torch.Tensor, seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    intents, patterns, targets = [], [], []
    for _ in range(n):
        span, left, right = (int(torch.randint(lo, hi, (1,), generator=g)) for lo, hi in ((2, 6), (0, 4), (0, 4)))
        tokens = ids[torch.randint(0, len(ids), (left + span + right,), generator=g)].tolist()
        patterns.append(tokens[:left] + [SYN_BEGIN] + tokens[left : left + span] + [SYN_END] + tokens[left + span :])
        targets.append(tokens[left : left + span] + [EOS])
        intents.append(ids[torch.randint(0, len(ids), (3,), generator=g)].tolist())  # noise: the intent says nothing
    return make_batch(intents, patterns, targets)


def synthetic_accuracy(copy: bool, steps: int, seed: int = 0) -> float:
    """Token accuracy (teacher-forced argmax, EOS included) on 200 spans of unseen ids after `steps` Adam steps."""
    torch.manual_seed(seed)
    config = preset_config(
        "tiny", vocab_size=SYN_VOCAB, d_model=64, d_kv=16, d_ff=128, dropout_rate=0.0, fusion_dropout=0.0,
        tie_word_embeddings=False, copy_mechanism=copy,
    )  # fmt: skip
    model = DualCodeT5ForConditionalGeneration(config).train()
    model.get_input_embeddings().weight.requires_grad_(False)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    seen, unseen = torch.arange(5, SYN_VOCAB // 2), torch.arange(SYN_VOCAB // 2, SYN_VOCAB)
    for step in range(steps):
        loss = model(**synthetic_examples(32, seen, seed=1000 + step)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    test = synthetic_examples(200, unseen, seed=1)
    with torch.no_grad():
        predicted = model.eval()(**test).logits.argmax(-1)
    mask = test["labels"] != -100
    return float((predicted[mask] == test["labels"][mask]).float().mean())


def _run_synthetic(steps: int) -> tuple[float, float]:
    start = time.perf_counter()
    copy_acc, plain_acc = synthetic_accuracy(True, steps), synthetic_accuracy(False, steps)
    print(
        f"\nsynthetic span copy, {steps} steps, unseen ids: copy {copy_acc:.1%}, no copy {plain_acc:.1%} "
        f"({time.perf_counter() - start:.0f} s)"
    )
    return copy_acc, plain_acc


def test_synthetic_copy_task_reaches_90_percent_on_unseen_ids():
    """Issue 11's bar: >= 90 % within a few hundred CPU steps, no copy < 50 % (150 steps, ~12 s for both).

    Measured: copy 98.3 %, no copy 22.8 % (EOS is ~22 % of the target tokens, the rest are unseen ids). Without the
    copy head's previous-token term the same set-up reached 58.1 % (64 % at 600 steps): pointing at the successor of
    the token just emitted is what the model could not learn in time.
    """
    copy_acc, plain_acc = _run_synthetic(150)
    assert copy_acc >= 0.90 and plain_acc < 0.50


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_synthetic_copy_task_other_seeds(seed):
    copy_acc = synthetic_accuracy(True, 150, seed=seed)
    print(f"\nsynthetic span copy, seed {seed}, 150 steps: copy {copy_acc:.1%}")
    assert copy_acc >= 0.90
