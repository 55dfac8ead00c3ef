"""DualCodeT5: config, forward/backward, save -> remote-code load, every `generate` path, from_codet5, precision.

Tiny configs built in code (vocab 99, d_model 32, 2 layers, 4 heads), batch 4, sequences up to 7 tokens. Most
generation tests use a tiny model first trained for a few hundred steps to memorise four (intent, pattern) -> target
examples, so that its greedy outputs are varied sequences (a random tiny T5 tends to repeat one token, which would
make "cached == uncached" nearly vacuous) and depend on the pattern.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModelForSeq2SeqLM, T5Config, T5ForConditionalGeneration

from modeling_dual_codet5 import DualCodeT5Config, DualCodeT5ForConditionalGeneration
from modeling_dual_codet5.presets import baseline_t5_config, count_parameters, preset_config

PAD, EOS = 0, 2
MAX_NEW = 8


def tiny_config(**overrides) -> DualCodeT5Config:
    return preset_config("tiny", **{"dropout_rate": 0.0, "fusion_dropout": 0.0, **overrides})


def pad_right(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token lists to `(batch, max_len)` ids and mask."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return ids, mask


# Two intents x two patterns; example 3 has an EMPTY pattern (all padding in the batch). Targets differ per pattern,
# so the trained model must read the pattern to reproduce them.
INTENTS = [[11, 12, 13, 14, 15, 16, 17], [11, 12, 13, 14, 15, 16, 17], [21, 22, 23, 24, 25], [21, 22, 23, 24, 25]]
PATTERNS = [[31, 32, 33, 34, 35, 36], [41, 42, 43], [51, 52, 53, 54, 55, 56, 57], []]
TARGETS = [[61, 62, 63, 64, 65, EOS], [71, 72, 73, 74, EOS], [81, 82, 83, 84, 85, 86, EOS], [91, 92, 93, EOS]]


@pytest.fixture(scope="module")
def batch() -> dict[str, torch.Tensor]:
    input_ids, attention_mask = pad_right(INTENTS)
    pattern_input_ids, pattern_attention_mask = pad_right(PATTERNS)
    labels, label_mask = pad_right(TARGETS)
    labels = labels.masked_fill(label_mask == 0, -100)
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "pattern_input_ids": pattern_input_ids,
        "pattern_attention_mask": pattern_attention_mask,
        "labels": labels,
    }


def gen_inputs(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in batch.items() if k != "labels"}


@pytest.fixture(scope="module")
def trained(batch) -> DualCodeT5ForConditionalGeneration:
    torch.manual_seed(0)
    model = DualCodeT5ForConditionalGeneration(tiny_config())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def strip(seq: torch.Tensor) -> list[int]:
    """Generated ids without the decoder start token, cut after the first EOS, pads dropped."""
    out = []
    for token in seq.tolist()[1:]:
        if token == PAD:
            continue
        out.append(token)
        if token == EOS:
            break
    return out


# ----------------------------------------------------------------------------------------------------- config


def test_config_round_trip(tmp_path):
    config = tiny_config(num_decoder_layers=3, pattern_num_layers=1, feed_forward_proj="gated-gelu")
    config.save_pretrained(tmp_path)
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(loaded, DualCodeT5Config)
    assert loaded.to_diff_dict() == config.to_diff_dict()  # the diff dict leaves out `_name_or_path`
    assert {k: v for k, v in loaded.to_dict().items() if k != "_name_or_path"} == {
        k: v for k, v in config.to_dict().items() if k != "_name_or_path"
    }
    assert (loaded.num_decoder_layers, loaded.pattern_num_layers, loaded.fusion_num_heads) == (3, 1, 4)
    # num_hidden_layers sizes generate's caches: it must be the decoder depth (hf_notes gotcha 8)
    assert loaded.num_hidden_layers == 3 and loaded.hidden_size == 32


def test_config_defaults_are_codet5_base():
    config = DualCodeT5Config()
    assert (config.d_model, config.num_layers, config.num_heads, config.d_ff, config.vocab_size) == (
        768, 12, 12, 3072, 32100,
    )  # fmt: skip
    assert (config.fusion_num_heads, config.fusion_dropout, config.tie_encoders) == (8, 0.1, False)
    assert config.num_decoder_layers == config.pattern_num_layers == 12


@pytest.mark.parametrize(
    ("overrides", "error", "fragment"),
    [
        ({"d_model": 30}, ValueError, "fusion_num_heads (8) must divide d_model (30)"),  # 30 % 8 != 0
        ({"vocab_size": "x"}, TypeError, "vocab_size must be an int"),  # JSON typo caught early
        ({"num_layers": 0}, ValueError, "num_layers must be >= 1"),
        ({"dropout_rate": 1.5}, ValueError, "dropout_rate must be a probability"),
        ({"fusion_dropout": -0.1}, ValueError, "fusion_dropout must be a probability"),
        ({"feed_forward_proj": "gated-gelu-x"}, ValueError, "feed_forward_proj must be"),  # T5 accepts 2 parts only
        ({"feed_forward_proj": "swish"}, ValueError, "feed_forward_proj must be"),  # unknown activation
        ({"tie_encoders": True, "pattern_num_layers": 6}, ValueError, "pattern_num_layers (6) must equal"),
        ({"tie_encoders": "yes"}, TypeError, "tie_encoders must be a bool"),
        ({"pad_token_id": 40000}, ValueError, "pad_token_id must lie in [0, vocab_size=32100)"),
        ({"eos_token_id": [2, -1]}, ValueError, "eos_token_id must be int(s)"),
        ({"decoder_start_token_id": None}, ValueError, "needs pad_token_id and decoder_start_token_id"),
    ],
)
def test_config_validation_errors_say_what_was_expected(overrides, error, fragment):
    with pytest.raises(error) as info:
        DualCodeT5Config(**overrides)
    assert fragment in str(info.value)


# ---------------------------------------------------------------------------------------------- forward/backward


def test_forward_shapes_and_scalar_loss(batch):
    torch.manual_seed(0)
    model = DualCodeT5ForConditionalGeneration(tiny_config()).eval()
    out = model(**batch)
    bsz, intent_len = batch["input_ids"].shape
    assert out.logits.shape == (bsz, batch["labels"].shape[1], 99)
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    # the memory is the fused intent states followed by the pattern states
    assert out.encoder_last_hidden_state.shape == (bsz, intent_len + batch["pattern_input_ids"].shape[1], 32)
    # no pattern: the memory is the fused intent alone
    no_pattern = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
    assert no_pattern.encoder_last_hidden_state.shape == (bsz, intent_len, 32)
    # loss equals the mean token cross-entropy over non-ignored labels
    mask = batch["labels"] != -100
    expected = torch.nn.functional.cross_entropy(out.logits[mask], batch["labels"][mask])
    torch.testing.assert_close(out.loss, expected)
    # return_dict=False gives a tuple led by the loss
    as_tuple = model(**batch, return_dict=False)
    assert isinstance(as_tuple, tuple)
    torch.testing.assert_close(as_tuple[0], out.loss)


@pytest.mark.parametrize("tie_encoders", [False, True])
def test_backward_gives_every_parameter_a_gradient(batch, tie_encoders):
    torch.manual_seed(0)
    model = DualCodeT5ForConditionalGeneration(preset_config("tiny", tie_encoders=tie_encoders)).train()
    model(**batch).loss.backward()
    names = [name for name, _ in model.named_parameters()]
    assert any(n.startswith("encoder.fusion.") for n in names)
    assert any(n.startswith("encoder.pattern_encoder.") for n in names) is not tie_encoders
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_lm_head_tied_and_fusion_initialised_like_xavier():
    torch.manual_seed(0)
    model = DualCodeT5ForConditionalGeneration(preset_config("tiny", d_model=64, d_kv=16))
    assert model.lm_head.weight is model.get_input_embeddings().weight
    attention = model.encoder.fusion.attention
    # xavier_uniform std = sqrt(2 / (fan_in + fan_out)); generic HF init would give std 1.0 (initializer_factor)
    expected_in = (2 / (64 + 3 * 64)) ** 0.5
    expected_out = (2 / (64 + 64)) ** 0.5
    assert abs(attention.in_proj_weight.std().item() - expected_in) < 0.15 * expected_in
    assert abs(attention.out_proj.weight.std().item() - expected_out) < 0.15 * expected_out
    assert torch.all(attention.in_proj_bias == 0) and torch.all(model.encoder.fusion.layer_norm.weight == 1)
    untied = DualCodeT5ForConditionalGeneration(preset_config("tiny", tie_word_embeddings=False))
    assert untied.lm_head.weight is not untied.get_input_embeddings().weight


def test_trained_model_reads_the_pattern(trained, batch):
    """Same intent, different pattern -> different memorised target: the pattern reaches the decoder."""
    generated = trained.generate(**gen_inputs(batch), max_new_tokens=MAX_NEW, do_sample=False)
    assert [strip(row) for row in generated] == TARGETS


# ------------------------------------------------------------------------------------------ save / remote code

_FRESH_PROCESS_SCRIPT = textwrap.dedent(
    """
    import importlib.abc, importlib.util, json, sys
    sys.path = [p for p in sys.path if p not in ("", ".") and not p.startswith(REPO)]

    class _BlockOurPackages(importlib.abc.MetaPathFinder):
        # An installed (e.g. editable) copy of the project would still be found through site-packages: refuse it,
        # so only the remote-code copy saved next to the weights can be used.
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("modeling_dual_codet5", "k8s_data", "k8s_scoring", "dual_codet5"):
                raise ImportError(f"{name} is blocked in this process")
            return None

    sys.meta_path.insert(0, _BlockOurPackages())
    try:
        import modeling_dual_codet5  # noqa: F401
    except ImportError:
        pass
    else:
        raise AssertionError("our package must not be importable here")
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import AutoModelForSeq2SeqLM

    model = AutoModelForSeq2SeqLM.from_pretrained(MODEL_DIR, trust_remote_code=True)
    assert not model.training
    inputs = load_file(INPUTS)
    labels = inputs.pop("labels")
    with torch.no_grad():
        logits = model(**inputs, labels=labels).logits
    greedy = model.generate(**inputs, max_new_tokens=MAX_NEW, do_sample=False)
    beam = model.generate(**inputs, max_new_tokens=MAX_NEW, num_beams=3, num_return_sequences=2)
    save_file({"logits": logits.contiguous(), "greedy": greedy.contiguous(), "beam": beam.contiguous()}, OUTPUTS)
    print(json.dumps({"class": type(model).__module__ + "." + type(model).__name__}))
    """
)


def test_save_then_load_as_remote_code_in_fresh_process(trained, batch, tmp_path):
    model_dir = tmp_path / "model"
    trained.save_pretrained(model_dir)
    files = sorted(p.name for p in model_dir.iterdir())
    assert {"model.safetensors", "modeling_dual_codet5.py", "configuration_dual_codet5.py"} <= set(files)
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt"))], files
    config = json.loads((model_dir / "config.json").read_text())
    assert config["auto_map"] == {
        "AutoConfig": "configuration_dual_codet5.DualCodeT5Config",
        "AutoModelForSeq2SeqLM": "modeling_dual_codet5.DualCodeT5ForConditionalGeneration",
    }
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
        logits = trained(**batch).logits
    torch.testing.assert_close(outputs["logits"], logits, rtol=0, atol=0)
    greedy = trained.generate(**gen_inputs(batch), max_new_tokens=MAX_NEW, do_sample=False)
    beam = trained.generate(**gen_inputs(batch), max_new_tokens=MAX_NEW, num_beams=3, num_return_sequences=2)
    assert torch.equal(outputs["greedy"], greedy)
    assert torch.equal(outputs["beam"], beam)


def test_in_package_auto_class_and_attn_implementation(trained, batch, tmp_path):
    trained.save_pretrained(tmp_path)
    eager = AutoModelForSeq2SeqLM.from_pretrained(tmp_path, attn_implementation="eager")
    assert isinstance(eager, DualCodeT5ForConditionalGeneration)
    stacks = [eager.encoder.intent_encoder, eager.encoder.pattern_encoder, eager.decoder]
    assert [s.config._attn_implementation for s in stacks] == ["eager"] * 3  # hf_notes gotcha 9
    with torch.no_grad():
        torch.testing.assert_close(eager(**batch).logits, trained(**batch).logits, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------------------------------- generation


@pytest.mark.parametrize("cache_implementation", ["dynamic", "static"])
def test_cached_greedy_equals_uncached(trained, batch, cache_implementation):
    inputs = gen_inputs(batch)
    uncached = trained.generate(**inputs, max_new_tokens=MAX_NEW, do_sample=False, use_cache=False)
    cached = trained.generate(
        **inputs, max_new_tokens=MAX_NEW, do_sample=False, use_cache=True, cache_implementation=cache_implementation
    )
    assert torch.equal(cached, uncached)
    assert len(set(uncached.flatten().tolist())) > 10  # varied sequences, not one repeated token


@pytest.mark.parametrize("cache_implementation", ["dynamic", "static"])
def test_decoder_deeper_than_encoder_generates_with_cache(batch, cache_implementation):
    """hf_notes gotcha 8: caches are sized by num_hidden_layers, which must be the decoder depth."""
    torch.manual_seed(0)
    model = DualCodeT5ForConditionalGeneration(tiny_config(num_layers=1, num_decoder_layers=3)).eval()
    inputs = gen_inputs(batch)
    uncached = model.generate(**inputs, max_new_tokens=4, do_sample=False, use_cache=False)
    cached = model.generate(**inputs, max_new_tokens=4, do_sample=False, cache_implementation=cache_implementation)
    assert torch.equal(cached, uncached)


def test_padded_batch_equals_one_by_one(trained, batch):
    inputs = gen_inputs(batch)
    batched = trained.generate(**inputs, max_new_tokens=MAX_NEW, do_sample=False)
    with torch.no_grad():
        batched_logits = trained(**batch).logits
    for i, (intent, pattern) in enumerate(zip(INTENTS, PATTERNS)):
        single = {"input_ids": torch.tensor([intent])}
        if pattern:
            single["pattern_input_ids"] = torch.tensor([pattern])
        alone = trained.generate(**single, max_new_tokens=MAX_NEW, do_sample=False)
        assert strip(alone[0]) == strip(batched[i]), i
        labels = torch.tensor([TARGETS[i]])
        with torch.no_grad():
            logits = trained(**single, labels=labels).logits[0]
        torch.testing.assert_close(logits, batched_logits[i, : len(TARGETS[i])], rtol=1e-4, atol=1e-4)


def test_left_padding_equals_right_padding(trained, batch):
    """T5 has relative positions, so padding on either side must not change the output."""

    def left(ids, mask):
        lengths = mask.sum(1)
        out_ids, out_mask = torch.full_like(ids, PAD), torch.zeros_like(mask)
        for i, n in enumerate(lengths.tolist()):
            if n:
                out_ids[i, -n:], out_mask[i, -n:] = ids[i, :n], 1
        return out_ids, out_mask

    inputs = gen_inputs(batch)
    input_ids, attention_mask = left(inputs["input_ids"], inputs["attention_mask"])
    pattern_ids, pattern_mask = left(inputs["pattern_input_ids"], inputs["pattern_attention_mask"])
    right = trained.generate(**inputs, max_new_tokens=MAX_NEW, do_sample=False)
    left_out = trained.generate(
        input_ids=input_ids, attention_mask=attention_mask, pattern_input_ids=pattern_ids,
        pattern_attention_mask=pattern_mask, max_new_tokens=MAX_NEW, do_sample=False,
    )  # fmt: skip
    assert torch.equal(left_out, right)


def test_beam_search_with_num_return_sequences(trained, batch):
    inputs = gen_inputs(batch)
    beams = trained.generate(
        **inputs, max_new_tokens=MAX_NEW, num_beams=4, num_return_sequences=3, output_scores=True,
        return_dict_in_generate=True,
    )  # fmt: skip
    assert beams.sequences.shape[0] == 4 * 3
    # the best beam of each group is the memorised target, and it matches num_return_sequences=1
    best = trained.generate(**inputs, max_new_tokens=MAX_NEW, num_beams=4)
    for i in range(4):
        assert strip(beams.sequences[3 * i]) == strip(best[i]) == TARGETS[i]
        group = beams.sequences_scores[3 * i : 3 * i + 3]
        assert torch.all(group[:-1] >= group[1:])  # returned best first
        assert len({tuple(s.tolist()) for s in beams.sequences[3 * i : 3 * i + 3]}) == 3  # distinct hypotheses
    cached_off = trained.generate(**inputs, max_new_tokens=MAX_NEW, num_beams=4, use_cache=False)
    assert torch.equal(cached_off, best)


def test_sampling_is_reproducible_under_a_seed(trained, batch):
    inputs = gen_inputs(batch)
    kwargs = {"max_new_tokens": MAX_NEW, "do_sample": True, "top_k": 20, "top_p": 0.95, "temperature": 1.5,
              "num_return_sequences": 2}  # fmt: skip
    torch.manual_seed(123)
    first = trained.generate(**inputs, **kwargs)
    torch.manual_seed(123)
    second = trained.generate(**inputs, **kwargs)
    assert first.shape[0] == 8
    assert torch.equal(first, second)
    draws = set()
    for seed in range(5):
        torch.manual_seed(seed)
        draws.add(tuple(trained.generate(**inputs, **kwargs).flatten().tolist()))
    assert len(draws) > 1  # it really samples


def test_empty_pattern_generates(trained, batch):
    intent = {"input_ids": batch["input_ids"][2:], "attention_mask": batch["attention_mask"][2:]}
    none = trained.generate(**intent, max_new_tokens=MAX_NEW, do_sample=False)
    zero_length = trained.generate(
        **intent, pattern_input_ids=torch.zeros((2, 0), dtype=torch.long), max_new_tokens=MAX_NEW, do_sample=False
    )
    all_pad = trained.generate(
        **intent, pattern_input_ids=torch.zeros((2, 5), dtype=torch.long),
        pattern_attention_mask=torch.zeros((2, 5), dtype=torch.long), max_new_tokens=MAX_NEW, do_sample=False,
    )  # fmt: skip
    assert torch.equal(none, zero_length)
    assert [strip(r) for r in none] == [strip(r) for r in all_pad]
    assert strip(none[1]) == TARGETS[3]  # trained with an empty pattern


# --------------------------------------------------------------------------------------------------- from_codet5


def _tiny_t5(tmp_path: Path, **overrides) -> tuple[Path, T5ForConditionalGeneration]:
    torch.manual_seed(1)
    config = T5Config(
        vocab_size=99, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
        relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=2, decoder_start_token_id=0, **overrides,
    )  # fmt: skip
    t5 = T5ForConditionalGeneration(config)
    t5.save_pretrained(tmp_path / "t5")
    return tmp_path / "t5", t5


def test_from_codet5_copies_what_it_reports(tmp_path):
    path, t5 = _tiny_t5(tmp_path)
    model, info = DualCodeT5ForConditionalGeneration.from_codet5(
        str(path), fusion_num_heads=4, output_loading_info=True
    )
    assert info is model.codet5_init_report
    source = t5.state_dict()
    target = model.state_dict()
    fusion = sorted(k for k in target if k.startswith("encoder.fusion."))
    assert info["missing"] == fusion  # only the fusion is new
    assert info["unexpected"] == [] and info["shape_mismatch"] == []
    for key in info["copied"]:
        if key.startswith(("encoder.intent_encoder.", "encoder.pattern_encoder.")):
            src = "encoder." + key.split(".", 2)[2]
        elif key == "encoder.embed_tokens.weight":
            src = "shared.weight"
        else:
            src = key
        assert torch.equal(target[key], source[src]), key
    non_fusion = set(target) - set(fusion) - {"lm_head.weight"}
    assert set(info["copied"]) == non_fusion
    assert model.lm_head.weight is model.shared.weight  # CodeT5 (T5 v1.0) ties the head and rescales
    assert model.config.tie_word_embeddings and model.config.fusion_num_heads == 4
    # with fusion skipped by an empty pattern the memory is LN(T5 encoder output): same argmax path is not
    # guaranteed, but the decoder and encoder weights are T5's, so the intent encoder output is identical
    ids = torch.tensor([[5, 6, 7, 8, 9, 10, 11]])
    with torch.no_grad():
        ours = model.eval().encoder.intent_encoder(inputs_embeds=model.shared(ids)).last_hidden_state
        theirs = t5.eval().encoder(input_ids=ids).last_hidden_state
    torch.testing.assert_close(ours, theirs)


def test_from_codet5_shallower_pattern_encoder_and_untied_head(tmp_path):
    path, t5 = _tiny_t5(tmp_path, feed_forward_proj="gated-gelu", tie_word_embeddings=False)
    model = DualCodeT5ForConditionalGeneration.from_codet5(str(path), fusion_num_heads=4, pattern_num_layers=1)
    info = model.codet5_init_report
    assert not model.config.tie_word_embeddings and model.config.feed_forward_proj == "gated-gelu"
    assert "lm_head.weight" in info["copied"]
    assert torch.equal(model.lm_head.weight, t5.lm_head.weight)
    assert len(model.encoder.pattern_encoder.block) == 1
    assert torch.equal(
        model.encoder.pattern_encoder.block[0].layer[1].DenseReluDense.wi_0.weight,
        t5.encoder.block[0].layer[1].DenseReluDense.wi_0.weight,
    )
    assert info["unexpected"] == []  # block 1 of the source encoder still feeds the intent encoder
    assert sorted(k for k in info["missing"] if not k.startswith("encoder.fusion.")) == []


# ---------------------------------------------------------------------------------------- training conveniences


def test_gradient_checkpointing_gives_same_loss_and_gradients(batch):
    torch.manual_seed(0)
    model = DualCodeT5ForConditionalGeneration(tiny_config()).train()
    loss = model(**batch, use_cache=False).loss
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    model.activation_checkpointing_enable()
    assert model.decoder.block[0].gradient_checkpointing
    assert model.encoder.intent_encoder.block[0].gradient_checkpointing
    loss_ckpt = model(**batch, use_cache=False).loss
    loss_ckpt.backward()
    torch.testing.assert_close(loss_ckpt, loss)
    for name, param in model.named_parameters():
        torch.testing.assert_close(param.grad, grads[name], rtol=1e-4, atol=1e-6, msg=name)


def test_bf16_forward_is_finite(trained, batch):
    model = DualCodeT5ForConditionalGeneration(trained.config)
    model.load_state_dict(trained.state_dict())
    model = model.to(torch.bfloat16).eval()
    with torch.no_grad():
        out = model(**batch)
    assert out.logits.dtype == torch.bfloat16 and torch.isfinite(out.logits).all() and torch.isfinite(out.loss)
    generated = model.generate(**gen_inputs(batch), max_new_tokens=MAX_NEW, do_sample=False)
    assert generated.shape[0] == 4


def test_fp16_load_keeps_feed_forward_output_in_fp32_and_is_finite(trained, batch, tmp_path):
    trained.save_pretrained(tmp_path)
    model = AutoModelForSeq2SeqLM.from_pretrained(tmp_path, dtype=torch.float16)
    wo = model.decoder.block[0].layer[2].DenseReluDense.wo.weight
    assert wo.dtype == torch.float32 and model.lm_head.weight.dtype == torch.float16
    try:
        with torch.no_grad():
            out = model(**batch)
    except RuntimeError as err:  # pragma: no cover - depends on the CPU build
        pytest.skip(f"fp16 matmul unsupported on this CPU build: {err}")
    assert torch.isfinite(out.logits).all() and torch.isfinite(out.loss)


# ------------------------------------------------------------------------------------------------------ presets


def test_presets_and_baseline_have_matching_shapes():
    with torch.device("meta"):
        small = DualCodeT5ForConditionalGeneration(preset_config("small"))
        baseline = T5ForConditionalGeneration(baseline_t5_config(small.config))
    counts, base_counts = count_parameters(small), count_parameters(baseline)
    assert 30e6 <= counts.total <= 60e6
    assert counts.decoder == base_counts.decoder and counts.intent_encoder == base_counts.intent_encoder
    assert counts.embedding == base_counts.embedding and base_counts.pattern_encoder == base_counts.fusion == 0
    assert counts.total == sum(p.numel() for p in small.parameters())  # tied head counted once
    base = preset_config("base")
    assert (base.d_model, base.num_layers, base.num_heads, base.d_ff, base.vocab_size) == (768, 12, 12, 3072, 32100)
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        preset_config("huge")
    assert preset_config("tiny", vocab_size=50).vocab_size == 50
