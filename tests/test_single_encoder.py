"""The like-for-like single-encoder baseline (`--model_type single`): a DualCodeT5 with `single_encoder: true` that
reads intent + pattern as one sequence, copies like the dual model, and is recognised from its saved config alone."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import train_rl
import train_sft
from dual_codet5.collate import encode_example, model_type_of_config
from dual_codet5.inference import generate_yaml, load_for_inference
from dual_codet5.train_utils import build_model, checkpoint_model_type, read_metrics
from dual_codet5.training_args import ModelArguments
from k8s_data import format_single_encoder_input
from modeling_dual_codet5 import DualCodeT5Config, DualCodeT5ForConditionalGeneration
from modeling_dual_codet5.presets import count_parameters, preset_config, single_encoder_config
from tests.training_fixtures import (
    TINY_MODEL_FLAGS,
    one_torch_thread,  # noqa: F401  (autouse fixture)
    tiny_examples,
    tiny_tokenizer,
    toy_reward,
    write_tiny_data,
)

# configs/sft_tiny.yaml's overrides of the tiny preset (the cpu-demo model)
SFT_TINY_OVERRIDES = {
    "d_model": 128, "d_kv": 32, "d_ff": 512, "num_heads": 4, "fusion_num_heads": 4, "dropout_rate": 0.0,
    "fusion_dropout": 0.0,
}  # fmt: skip


def tiny_single(copy: bool = True) -> DualCodeT5ForConditionalGeneration:
    torch.manual_seed(0)
    config = single_encoder_config(preset_config("tiny", copy_mechanism=copy, dropout_rate=0.0))
    return DualCodeT5ForConditionalGeneration(config).eval()


# ---------------------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"single_encoder": "yes"}, TypeError, "single_encoder must be a bool"),  # no truthy strings
        ({"single_encoder": True, "tie_encoders": True}, ValueError, "no pattern encoder to tie"),
        # intent and pattern are one sequence: there is no "intent only" part to copy from
        ({"single_encoder": True, "copy_mechanism": True, "copy_from": "intent"}, ValueError, "copy_from must be"),
    ],
)
def test_config_rejects_inconsistent_single_encoder_settings(fields, error, message):
    with pytest.raises(error, match=message):
        preset_config("tiny", **fields)


def test_config_default_is_dual_and_single_round_trips_through_json(tmp_path):
    assert preset_config("tiny").single_encoder is False  # configs saved before the field existed load as dual
    single = single_encoder_config(preset_config("tiny", copy_mechanism=True))
    single.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["single_encoder"] is True and saved["copy_mechanism"] is True
    assert DualCodeT5Config.from_pretrained(tmp_path).single_encoder is True


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"model_type": "dual_codet5"}, "dual"),  # saved before single_encoder existed
        ({"model_type": "dual_codet5", "single_encoder": False}, "dual"),
        ({"model_type": "dual_codet5", "single_encoder": True}, "single"),
        ({"model_type": "t5"}, "baseline"),  # any plain seq2seq model reads the one-sequence format
    ],
)
def test_model_type_is_read_from_the_config_alone(config, expected):
    assert model_type_of_config(config) == expected
    assert model_type_of_config(DualCodeT5Config(**{k: v for k, v in config.items() if k != "model_type"})) == (
        expected if config["model_type"] == "dual_codet5" else "dual"
    )


# ----------------------------------------------------------------------------------------------------------- model
def test_single_model_allocates_no_pattern_encoder_or_fusion_and_refuses_a_pattern_input():
    model = tiny_single()
    assert model.encoder.pattern_encoder is None and model.encoder.fusion is None
    assert not any(name.startswith(("encoder.pattern_encoder.", "encoder.fusion.")) for name, _ in
                   model.named_parameters())  # fmt: skip
    ids = torch.tensor([[11, 12, 13, 2]])
    with pytest.raises(ValueError, match="single-encoder model"):
        model(input_ids=ids, pattern_input_ids=ids, labels=ids)


def test_single_encoder_gets_both_dual_encoders_depth():
    dual = preset_config("tiny", num_layers=3, pattern_num_layers=2)
    assert single_encoder_config(dual).num_layers == 5
    assert single_encoder_config(preset_config("tiny", tie_encoders=True)).num_layers == 2  # one shared encoder
    assert single_encoder_config(single_encoder_config(dual)).num_layers == 5  # idempotent


@pytest.mark.parametrize("copy", [False, True])
@pytest.mark.parametrize("vocab_size", [99, 2000])  # the preset's vocabulary and sft_tiny's tokenizer size
def test_parameters_within_ten_percent_of_the_dual_model(copy, vocab_size):
    config = preset_config("tiny", vocab_size=vocab_size, copy_mechanism=copy, **SFT_TINY_OVERRIDES)
    with torch.device("meta"):
        dual = count_parameters(DualCodeT5ForConditionalGeneration(config))
        single = count_parameters(DualCodeT5ForConditionalGeneration(single_encoder_config(config)))
    assert single.pattern_encoder == 0 and single.fusion == 0 and single.copy == dual.copy
    assert single.intent_encoder > dual.intent_encoder + dual.pattern_encoder - 2 * config.d_model * 16
    assert abs(single.total - dual.total) <= 0.10 * dual.total, (single.total, dual.total)


def test_save_load_round_trip_gives_identical_greedy_output(tmp_path):
    from transformers import AutoModelForSeq2SeqLM

    model = tiny_single(copy=True)
    ids = torch.tensor([[11, 12, 13, 14, 2], [21, 22, 2, 0, 0]])  # (2, 5), the second row padded
    mask = (ids != 0).long()
    before = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=8)
    model.save_pretrained(tmp_path)
    loaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    assert loaded.config.single_encoder and loaded.encoder.pattern_encoder is None
    torch.testing.assert_close(loaded(input_ids=ids, attention_mask=mask, labels=ids).logits,
                               model(input_ids=ids, attention_mask=mask, labels=ids).logits)  # fmt: skip
    assert torch.equal(loaded.generate(input_ids=ids, attention_mask=mask, max_new_tokens=8), before)


def test_from_codet5_stacks_the_checkpoint_encoder_for_a_deeper_single_encoder(tmp_path):
    from transformers import T5Config, T5ForConditionalGeneration

    t5 = T5ForConditionalGeneration(
        T5Config(vocab_size=99, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4, pad_token_id=0,
                 eos_token_id=2, decoder_start_token_id=0)
    )  # fmt: skip
    t5.save_pretrained(tmp_path)
    model = DualCodeT5ForConditionalGeneration.from_codet5(str(tmp_path), single_encoder=True, num_layers=4)
    source = t5.state_dict()
    blocks = model.encoder.intent_encoder.block
    for i in range(4):  # blocks 2 and 3 restart from the checkpoint's blocks 0 and 1
        torch.testing.assert_close(blocks[i].layer[0].SelfAttention.q.weight,
                                   source[f"encoder.block.{i % 2}.layer.0.SelfAttention.q.weight"])  # fmt: skip
    assert not any("pattern_encoder" in key or "fusion" in key for key in model.codet5_init_report["missing"])


# -------------------------------------------------------------------------------------------------------- training
@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    return write_tiny_data(tmp_path_factory.mktemp("single_data"), n=30, n_train=24)


@pytest.fixture(scope="module")
def sft_single(data, tmp_path_factory) -> Path:
    """``train_sft.py --model_type single --copy_mechanism true``: 12 steps on the tiny data; its output folder."""
    out = tmp_path_factory.mktemp("sft_single")
    train_sft.main([
        *TINY_MODEL_FLAGS, "--model_type", "single", "--copy_mechanism", "true", "--output_dir", str(out),
        "--tokenizer_name_or_path", str(data["tokenizer"]), "--train_file", str(data["train"]),
        "--validation_file", str(data["validation"]), "--per_device_train_batch_size", "4", "--learning_rate", "1e-2",
        "--num_train_epochs", "2",
    ])  # fmt: skip
    return out


def test_sft_single_trains_and_saves_a_single_copy_model(sft_single):
    records = read_metrics(sft_single / "metrics.jsonl")
    train_loss = [r["train/loss"] for r in records if "train/loss" in r]
    eval_loss = [r["eval/loss"] for r in records if "eval/loss" in r]
    assert len(train_loss) == 12 and train_loss[-1] < 0.5 * train_loss[0]
    assert eval_loss[-1] < eval_loss[0]
    final = sft_single / "final"
    config = json.loads((final / "config.json").read_text())
    assert config["model_type"] == "dual_codet5" and config["single_encoder"] and config["copy_mechanism"]
    assert config["num_layers"] == 4  # the tiny preset's 2 intent + 2 pattern layers in one encoder
    assert "model_type: single" in (final / "training_args.yaml").read_text()
    assert checkpoint_model_type(str(final)) == "single"
    assert not any(k.startswith(("encoder.pattern_encoder.", "encoder.fusion.")) for k in
                   load_file(final / "model.safetensors"))  # fmt: skip


def test_inference_formats_the_single_input_from_the_checkpoint(sft_single):
    final = sft_single / "final"
    loaded = load_for_inference(str(final), device="cpu")
    assert not loaded.is_dual and loaded.max_source_length == 16 and loaded.max_pattern_length == 16
    ex = tiny_examples(1)[0]
    got = generate_yaml(loaded, [ex["intent"]], [ex["k8s_pattern"]], num_beams=1, max_new_tokens=12,
                        early_stop=False)[0][0]  # fmt: skip
    # by hand: intent + separator + pattern in one input_ids, truncated to the two budgets together
    tok = loaded.tokenizer
    enc = tok(format_single_encoder_input(ex["intent"], ex["k8s_pattern"]), truncation=True, max_length=32,
              return_tensors="pt")  # fmt: skip
    out = loaded.model.generate(input_ids=enc.input_ids, attention_mask=enc.attention_mask, max_new_tokens=12,
                                num_beams=1)  # fmt: skip
    assert got == tok.decode(out[0], skip_special_tokens=True, clean_up_tokenization_spaces=False)
    assert got.startswith("apiVersion: apps/v1")  # 12 steps were enough to learn how every target starts


def test_encode_example_single_equals_the_baseline_format():
    tok = tiny_tokenizer()
    ex = tiny_examples(1)[0]
    lengths = {"max_source_length": 4, "max_pattern_length": 6, "max_target_length": 8}
    single = encode_example(ex["intent"], ex["k8s_pattern"], ex["yaml"], tok, model_type="single", **lengths)
    baseline = encode_example(ex["intent"], ex["k8s_pattern"], ex["yaml"], tok, model_type="baseline", **lengths)
    assert single == baseline and "pattern_input_ids" not in single
    assert len(single["input_ids"]) == 10  # max_source_length + max_pattern_length


def test_rl_from_a_single_checkpoint_keeps_it_single(sft_single, data, tmp_path):
    sft = sft_single / "final"
    final = train_rl.main(
        [*TINY_MODEL_FLAGS, "--init_from", str(sft), "--output_dir", str(tmp_path / "rl"),
         "--tokenizer_name_or_path", str(data["tokenizer"]), "--train_file", str(data["train"]),
         "--per_device_train_batch_size", "4", "--num_samples", "2", "--max_new_tokens", "8", "--max_steps", "1",
         "--learning_rate", "0"],
        reward_fn=toy_reward,
    )  # fmt: skip
    config = json.loads((final / "config.json").read_text())
    assert config["single_encoder"] and config["copy_mechanism"]
    assert "model_type: single" in (final / "training_args.yaml").read_text()
    before, after = load_file(sft / "model.safetensors"), load_file(final / "model.safetensors")
    assert before.keys() == after.keys()
    for key in before:  # learning rate 0: the RL output is the SFT model itself
        torch.testing.assert_close(after[key], before[key], msg=key)
    # asking for another type of a trained checkpoint is an error, not a conversion
    with pytest.raises(ValueError, match="holds a trained single model"):
        build_model(ModelArguments(init_from=str(sft), model_type="dual"), tiny_tokenizer())


def test_build_model_refuses_a_single_encoder_override_and_a_mismatched_folder(tmp_path):
    tok = tiny_tokenizer()
    with pytest.raises(ValueError, match="--model_type single"):
        build_model(ModelArguments(init_from="tiny", config_overrides="single_encoder=true"), tok)
    # a dual folder not saved by the training scripts (no training_args.yaml) is still checked after loading
    DualCodeT5ForConditionalGeneration(preset_config("tiny", vocab_size=len(tok))).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="holds a dual model; use --model_type dual"):
        build_model(ModelArguments(init_from=str(tmp_path), model_type="single"), tok)
    single = build_model(ModelArguments(init_from="tiny", model_type="single", copy_mechanism=True), tok)
    assert single.config.single_encoder and single.config.copy_mechanism and single.config.num_layers == 4
