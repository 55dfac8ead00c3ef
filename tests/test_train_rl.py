"""train_rl.py: a toy reward that a tiny model can learn is learnt; the k8s reward path runs end to end."""

import json
from pathlib import Path

import pytest
import torch

import train_rl
from dual_codet5.train_utils import read_metrics
from tests.training_fixtures import (
    TINY_MODEL_FLAGS,
    one_torch_thread,  # noqa: F401  (autouse fixture)
    toy_reward,
    write_tiny_data,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    return write_tiny_data(tmp_path_factory.mktemp("rl_data"), n=20, n_train=16)


def rl_flags(data: dict[str, Path], output_dir: Path, *extra: str) -> list[str]:
    return [
        *TINY_MODEL_FLAGS,
        "--output_dir", str(output_dir),
        "--tokenizer_name_or_path", str(data["tokenizer"]),
        "--train_file", str(data["train"]),
        "--per_device_train_batch_size", "4",
        "--num_samples", "4",
        "--max_new_tokens", "8",
        *extra,
    ]  # fmt: skip


def test_toy_reward_rises(data, tmp_path):
    # reward = share of generated words that are "kind:"; a random tiny model says it ~1 time in 10
    train_rl.main(
        rl_flags(data, tmp_path, "--max_steps", "8", "--learning_rate", "5e-3", "--gamma", "1.0", "--kl_beta", "0.0",
                 "--reward_fn", "tests.training_fixtures:toy_reward")
    )  # fmt: skip
    rewards = [r["rl/reward"] for r in read_metrics(tmp_path / "metrics.jsonl") if "rl/reward" in r]
    assert len(rewards) == 8
    assert rewards[0] < 0.4
    assert sum(rewards[-3:]) / 3 > 0.75 and sum(rewards[-3:]) / 3 > rewards[0] + 0.4


def test_kl_starts_at_zero_and_is_logged(data, tmp_path):
    # the policy starts as the frozen SFT reference: the first step's sampled KL is exactly 0
    train_rl.main(
        rl_flags(data, tmp_path, "--max_steps", "2", "--learning_rate", "5e-3", "--kl_beta", "0.05",
                 "--validation_file", str(data["validation"])),
        reward_fn=toy_reward,
    )  # fmt: skip
    records = read_metrics(tmp_path / "metrics.jsonl")
    first = records[0]
    assert first["step"] == 1 and first["rl/kl"] == pytest.approx(0.0, abs=1e-6)
    for key in ("rl/entropy", "rl/completion_length", "rl/zero_spread_groups", "rl/truncated_share", "rl/reward_std"):
        assert key in first
    assert 0.0 <= first["rl/zero_spread_groups"] <= 1.0 and 1.0 <= first["rl/completion_length"] <= 8.0
    assert any("eval/reward" in r for r in records)
    assert (tmp_path / "samples.jsonl").read_text().count("\n") >= 4
    assert (tmp_path / "stage2_epoch1" / "config.json").exists() or (tmp_path / "final" / "config.json").exists()


def test_rl_with_the_k8s_reward_from_an_sft_checkpoint(data, tmp_path):
    # the real judge on a few steps: reward parts and validity rates are logged and in range
    import train_sft

    sft = train_sft.main(
        [*TINY_MODEL_FLAGS, "--output_dir", str(tmp_path / "sft"), "--tokenizer_name_or_path", str(data["tokenizer"]),
         "--train_file", str(data["train"]), "--max_steps", "4", "--learning_rate", "1e-2"]
    )  # fmt: skip
    final = train_rl.main(
        rl_flags(data, tmp_path / "rl", "--init_from", str(sft), "--max_steps", "1", "--num_samples", "2",
                 "--max_new_tokens", "24")
    )  # fmt: skip
    record = read_metrics(tmp_path / "rl" / "metrics.jsonl")[0]
    for part in ("codebleu", "bp", "security", "complexity", "yaml_valid", "schema_valid"):
        assert f"reward_parts/{part}" in record
    assert 0.0 <= record["rl/reward"] <= 1.0
    assert (final / "model.safetensors").exists()


def test_completion_mask_stops_after_first_eos():
    tokens = torch.tensor([[5, 6, 2, 0, 0], [5, 2, 7, 2, 0], [5, 6, 7, 8, 9]])
    expected = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 1, 1]])
    assert torch.equal(train_rl.completion_mask(tokens, eos_token_id=2), expected)


def test_encoder_inputs_repeat_each_prompt_k_times():
    batch = {"input_ids": torch.tensor([[1, 2], [3, 4]]), "attention_mask": torch.ones(2, 2), "example_index": 0}
    out = train_rl.encoder_inputs(batch, repeat=3)
    assert out.keys() == {"input_ids", "attention_mask"}
    assert out["input_ids"].tolist() == [[1, 2]] * 3 + [[3, 4]] * 3  # samples of one prompt are contiguous


def test_rl_resume_continues_at_the_saved_step(data, tmp_path):
    common = ("--max_steps", "4", "--checkpointing_steps", "2", "--save_total_states", "0", "--learning_rate", "5e-3",
              "--reward_fn", "tests.training_fixtures:toy_reward", "--per_device_train_batch_size", "2")  # fmt: skip
    train_rl.main(rl_flags(data, tmp_path / "a", *common))
    train_rl.main(rl_flags(data, tmp_path / "b", *common, "--resume_from_checkpoint",
                           str(tmp_path / "a" / "state" / "step_2")))  # fmt: skip
    steps_b = [r["step"] for r in read_metrics(tmp_path / "b" / "metrics.jsonl") if "rl/reward" in r]
    assert steps_b == [3, 4]
    # model, optimizer and RNG state restored: the same samples, rewards and updates as the uninterrupted run
    rewards_a = [r["rl/reward"] for r in read_metrics(tmp_path / "a" / "metrics.jsonl") if "rl/reward" in r][2:]
    rewards_b = [r["rl/reward"] for r in read_metrics(tmp_path / "b" / "metrics.jsonl") if "rl/reward" in r]
    assert rewards_a == pytest.approx(rewards_b)
    from safetensors.torch import load_file

    wa, wb = load_file(tmp_path / "a/final/model.safetensors"), load_file(tmp_path / "b/final/model.safetensors")
    for key in wa:
        torch.testing.assert_close(wa[key], wb[key], rtol=1e-5, atol=1e-6, msg=key)


def test_disable_dropout_keeps_activation_checkpointing_active():
    # regression: stage 2 used model.eval(), and transformers only checkpoints activations in training mode, so
    # --activation_checkpointing silently did nothing; the policy must be dropout-free *and* in training mode
    from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration
    from modeling_dual_codet5.presets import preset_config

    torch.manual_seed(0)
    config = preset_config("tiny", vocab_size=40, pad_token_id=0, eos_token_id=2, decoder_start_token_id=0,
                           dropout_rate=0.5, fusion_dropout=0.5)  # fmt: skip
    model = DualCodeT5ForConditionalGeneration(config)
    model.activation_checkpointing_enable()
    calls = []
    for module in model.modules():
        if hasattr(module, "_gradient_checkpointing_func"):
            inner = module._gradient_checkpointing_func
            module._gradient_checkpointing_func = lambda *a, f=inner, **kw: calls.append(1) or f(*a, **kw)
    ids = torch.randint(3, 40, (2, 6))
    inputs = {"input_ids": ids, "pattern_input_ids": ids.flip(1), "decoder_input_ids": ids}
    with torch.no_grad():
        reference = model.eval()(**inputs).logits
    assert train_rl.disable_dropout(model) is model and model.training
    first, second = model(**inputs).logits, model(**inputs).logits
    torch.testing.assert_close(first, reference)  # no dropout left: training mode computes the eval function
    torch.testing.assert_close(second, reference)
    first.sum().backward()
    assert calls, "activation checkpointing did not run"


def test_rl_activation_checkpointing_runs_in_the_training_loop(data, tmp_path, monkeypatch):
    from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration

    calls = []
    enable = DualCodeT5ForConditionalGeneration.activation_checkpointing_enable

    def counting_enable(self, *args, **kwargs):
        enable(self, *args, **kwargs)
        for module in self.modules():
            if hasattr(module, "_gradient_checkpointing_func"):
                inner = module._gradient_checkpointing_func
                module._gradient_checkpointing_func = lambda *a, f=inner, **kw: calls.append(1) or f(*a, **kw)

    monkeypatch.setattr(DualCodeT5ForConditionalGeneration, "activation_checkpointing_enable", counting_enable)
    flags = rl_flags(data, tmp_path, "--max_steps", "1", "--activation_checkpointing", "true",
                     "--per_device_train_batch_size", "2", "--num_samples", "2")  # fmt: skip
    train_rl.main(flags, reward_fn=toy_reward)
    assert calls, "--activation_checkpointing had no effect in stage 2"


def test_rl_resume_in_a_later_epoch_with_a_short_last_accumulation(data, tmp_path):
    # regression: 16 examples / batch 6 = 3 batches per epoch with 2 accumulation steps, so an epoch is 2 optimizer
    # steps over 3 batches; the sampling seed of a run resumed at step 3 (epoch 2) must count 3 + 2 batches, not 3 * 2
    common = ("--max_steps", "4", "--checkpointing_steps", "3", "--save_total_states", "0", "--learning_rate", "5e-3",
              "--reward_fn", "tests.training_fixtures:toy_reward", "--per_device_train_batch_size", "6",
              "--gradient_accumulation_steps", "2", "--num_samples", "2", "--max_new_tokens", "6")  # fmt: skip
    train_rl.main(rl_flags(data, tmp_path / "a", *common))
    train_rl.main(rl_flags(data, tmp_path / "b", *common, "--resume_from_checkpoint",
                           str(tmp_path / "a" / "state" / "step_3")))  # fmt: skip
    rewards_a = {r["step"]: r["rl/reward"] for r in read_metrics(tmp_path / "a" / "metrics.jsonl") if "rl/reward" in r}
    rewards_b = {r["step"]: r["rl/reward"] for r in read_metrics(tmp_path / "b" / "metrics.jsonl") if "rl/reward" in r}
    assert sorted(rewards_b) == [4]
    assert rewards_b[4] == pytest.approx(rewards_a[4])


def test_rl_resuming_a_finished_run_trains_no_further(data, tmp_path):
    # regression: resuming from the last state of a run that had reached --max_steps mid-epoch ran one more step
    flags = rl_flags(data, tmp_path, "--max_steps", "1", "--checkpointing_steps", "1", "--num_samples", "2",
                     "--per_device_train_batch_size", "2", "--reward_fn", "tests.training_fixtures:toy_reward")
    train_rl.main(flags)
    train_rl.main([*flags, "--resume_from_checkpoint", "latest"])
    assert [r["step"] for r in read_metrics(tmp_path / "metrics.jsonl") if "rl/reward" in r] == [1]


# ------------------------------------------------------------------- encode each prompt once (issue 12, item 6)
def _tiny_policy(model_type: str):
    from transformers import T5ForConditionalGeneration

    from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration
    from modeling_dual_codet5.presets import baseline_t5_config, preset_config, single_encoder_config

    torch.manual_seed(0)
    # the single model copies: its copy ids must be expanded with the encoder output too
    config = preset_config("tiny", vocab_size=40, pad_token_id=0, eos_token_id=2, decoder_start_token_id=0,
                           dropout_rate=0.0, fusion_dropout=0.0, copy_mechanism=model_type == "single")  # fmt: skip
    if model_type == "dual":
        return DualCodeT5ForConditionalGeneration(config)
    if model_type == "single":
        return DualCodeT5ForConditionalGeneration(single_encoder_config(config))
    return T5ForConditionalGeneration(baseline_t5_config(config))


@pytest.mark.parametrize("model_type", ["dual", "single", "baseline"])
def test_encoding_each_prompt_once_gives_the_logprobs_and_gradients_of_k_encodings(model_type):
    # the old path encoded every prompt k times (encoder_inputs(batch, repeat=k)); the new one encodes it once and
    # repeats the encoder output: same log-probs, and the same gradients (the sum over the k copies) on every weight
    from accelerate import Accelerator

    from dual_codet5.rl import gather_token_logprobs

    model, k = _tiny_policy(model_type).train(), 3
    batch = {  # 2 prompts with padding, as the collator gives them
        "input_ids": torch.tensor([[5, 6, 7, 2], [8, 9, 2, 0]]),
        "attention_mask": torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]),
        "example_index": torch.tensor([0, 1]),
    }
    if model_type == "dual":
        batch["pattern_input_ids"] = torch.tensor([[11, 12, 2], [13, 2, 0]])
        batch["pattern_attention_mask"] = torch.tensor([[1, 1, 1], [1, 1, 0]])
    sequences = torch.randint(3, 40, (2 * k, 6))
    sequences[:, 0] = 0  # decoder start
    tokens = sequences[:, 1:]

    old_logits = model(**train_rl.encoder_inputs(batch, repeat=k), decoder_input_ids=sequences[:, :-1]).logits
    old = gather_token_logprobs(old_logits, tokens)
    old.sum().backward()
    old_grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()

    new = gather_token_logprobs(train_rl.sequence_logits(model, batch, sequences[:, :-1], k, Accelerator()), tokens)
    new.sum().backward()
    torch.testing.assert_close(new, old, rtol=1e-5, atol=1e-6)
    assert old_grads.keys() == {n for n, p in model.named_parameters() if p.grad is not None}
    for name, grad in old_grads.items():
        torch.testing.assert_close(dict(model.named_parameters())[name].grad, grad, rtol=1e-4, atol=1e-6, msg=name)


def test_expand_encoder_outputs_repeats_every_batch_field():
    from dataclasses import dataclass

    from transformers.utils import ModelOutput

    from dual_codet5.rl import expand_encoder_outputs

    @dataclass
    class CopyEncoderOutput(ModelOutput):  # what a copy-mechanism model may carry besides the memory
        last_hidden_state: torch.Tensor | None = None
        attention_mask: torch.Tensor | None = None
        memory_token_ids: torch.Tensor | None = None
        hidden_states: tuple[torch.Tensor, ...] | None = None
        gate_bias: torch.Tensor | None = None

    out = CopyEncoderOutput(
        last_hidden_state=torch.arange(12.0).view(2, 3, 2),
        attention_mask=torch.tensor([[1, 1, 0], [1, 1, 1]]),
        memory_token_ids=torch.tensor([[7, 8, 0], [9, 10, 11]]),
        hidden_states=(torch.zeros(2, 3, 2), torch.ones(2, 3, 2)),
        gate_bias=torch.tensor([0.5]),  # not per prompt (first dimension 1 != 2 prompts): passed through
    )
    big = expand_encoder_outputs(out, 3)
    assert type(big) is CopyEncoderOutput
    # every per-prompt field, including the extra token ids and the hidden-state tuple; copies of a prompt contiguous
    assert big.memory_token_ids.tolist() == [[7, 8, 0]] * 3 + [[9, 10, 11]] * 3
    assert big.attention_mask.tolist() == [[1, 1, 0]] * 3 + [[1, 1, 1]] * 3
    assert big.last_hidden_state.shape == (6, 3, 2) and torch.equal(big.last_hidden_state[3], out.last_hidden_state[1])
    assert [h.shape[0] for h in big.hidden_states] == [6, 6]
    assert big.gate_bias is out.gate_bias
    assert out.memory_token_ids.shape == (2, 3)  # the input is left as it was
    assert expand_encoder_outputs(out, 1).memory_token_ids.tolist() == out.memory_token_ids.tolist()
    with pytest.raises(ValueError, match="k must be >= 1"):
        expand_encoder_outputs(out, 0)


# ----------------------------------------------------- --init_from a trained baseline stays a baseline (item 6)
def test_rl_from_a_trained_baseline_reads_the_model_type_from_the_checkpoint(data, tmp_path):
    # regression: without --model_type baseline, RL from runs/sft_baseline/final built a dual model from the T5
    # weights with a freshly initialised fusion (from_codet5), silently discarding the trained baseline
    from safetensors.torch import load_file

    import train_sft

    sft = train_sft.main(
        [*TINY_MODEL_FLAGS, "--model_type", "baseline", "--output_dir", str(tmp_path / "sft"),
         "--tokenizer_name_or_path", str(data["tokenizer"]), "--train_file", str(data["train"]), "--max_steps", "1"]
    )  # fmt: skip
    final = train_rl.main(
        rl_flags(data, tmp_path / "rl", "--init_from", str(sft), "--max_steps", "1", "--learning_rate", "0"),
        reward_fn=toy_reward,
    )
    assert json.loads((final / "config.json").read_text())["model_type"] == "t5"
    args = (final / "training_args.yaml").read_text()
    assert "model_type: baseline" in args
    # learning rate 0: the RL output is the SFT baseline itself, weight for weight (no fusion, no fresh tensors)
    before, after = load_file(sft / "model.safetensors"), load_file(final / "model.safetensors")
    assert before.keys() == after.keys() and not any("fusion" in key for key in after)
    for key in before:
        torch.testing.assert_close(after[key], before[key], msg=key)
    # asking for the other type of a trained checkpoint is an error, not a conversion
    with pytest.raises(ValueError, match="holds a trained baseline model"):
        train_rl.main(rl_flags(data, tmp_path / "rl2", "--init_from", str(sft), "--model_type", "dual",
                               "--max_steps", "1"), reward_fn=toy_reward)  # fmt: skip


def test_rl_samples_with_the_patterns_its_init_model_was_trained_with(tmp_path):
    from accelerate import PartialState

    from dual_codet5.training_args import DataArguments, ModelArguments
    from k8s_data import RetrievalConfig

    PartialState()  # train_rl logs through accelerate
    RetrievalConfig(pattern_format="exemplar", exemplar_k=1, train_sample_top=1).save(tmp_path)
    model_args, data_args = ModelArguments(init_from=str(tmp_path)), DataArguments()
    assert data_args.pattern_format == "skeleton"  # the command line's default
    assert train_rl.adopt_init_retrieval(model_args, data_args)
    assert (data_args.pattern_format, data_args.exemplar_k, data_args.train_sample_top) == ("exemplar", 1, 1)
    # a preset / folder without retrieval files keeps the command line's settings
    assert not train_rl.adopt_init_retrieval(ModelArguments(init_from="tiny"), DataArguments())


def test_rl_with_the_exemplar_lookup_samples_the_exemplar_and_starts_at_zero_kl(data, tmp_path):
    # a random tiny model with a huge lookup bonus writes its exemplar (the pattern column) token for token; the
    # policy and the reference are both "model + lookup", so the first step's KL is 0 as without the lookup
    train_rl.main(
        rl_flags(data, tmp_path, "--max_steps", "1", "--pattern_format", "exemplar", "--lookup_bonus", "60",
                 "--max_new_tokens", "40", "--num_sample_logs", "8", "--validation_file", str(data["validation"])),
        reward_fn=toy_reward,
    )  # fmt: skip
    samples = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    exemplar = "apiVersion: apps/v1 kind: Deployment spec: replicas: <int>"  # the tiny tokenizer drops newlines
    assert len(samples) == 8 and all(" ".join(s["completion"].split()) == exemplar for s in samples)
    records = read_metrics(tmp_path / "metrics.jsonl")
    assert records[0]["rl/kl"] == pytest.approx(0.0, abs=1e-5)
    # the end-of-epoch greedy evaluation decodes with the lookup too: every completion is the exemplar, whose toy
    # reward is 1 "kind:" in 7 words (a random tiny model alone scores something else)
    (eval_reward,) = [r["eval/reward"] for r in records if "eval/reward" in r]
    assert eval_reward == pytest.approx(1 / 7)
    # masked exemplar words would be rewarded as tokens to copy
    with pytest.raises(ValueError, match="exemplar_mask_prob"):
        train_rl.main(
            rl_flags(data, tmp_path / "masked", "--max_steps", "1", "--pattern_format", "exemplar",
                     "--lookup_bonus", "4", "--exemplar_mask_prob", "0.2"),
            reward_fn=toy_reward,
        )  # fmt: skip
    # skeleton patterns are no text to look up
    with pytest.raises(ValueError, match="needs exemplar patterns"):
        train_rl.main(
            rl_flags(data, tmp_path / "bad", "--max_steps", "1", "--lookup_bonus", "4"), reward_fn=toy_reward
        )
