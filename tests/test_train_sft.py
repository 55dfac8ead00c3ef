"""train_sft.py on a tiny model and a tiny fixed data set: the loss falls, checkpoints load, resume is exact."""

from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

import train_sft
from dual_codet5.collate import LengthGroupedSampler, Seq2SeqCollator, encode_example
from dual_codet5.train_utils import read_metrics
from dual_codet5.training_args import DataArguments, ModelArguments, SFTArguments, parse_config
from tests.training_fixtures import (
    TINY_MODEL_FLAGS,
    one_torch_thread,  # noqa: F401  (autouse fixture)
    tiny_examples,
    tiny_tokenizer,
    write_tiny_data,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    return write_tiny_data(tmp_path_factory.mktemp("sft_data"), n=30, n_train=24)


def sft_flags(data: dict[str, Path], output_dir: Path, *extra: str) -> list[str]:
    return [
        *TINY_MODEL_FLAGS,
        "--output_dir", str(output_dir),
        "--tokenizer_name_or_path", str(data["tokenizer"]),
        "--train_file", str(data["train"]),
        "--validation_file", str(data["validation"]),
        "--per_device_train_batch_size", "4",
        "--learning_rate", "1e-2",
        *extra,
    ]  # fmt: skip


def test_sft_loss_falls_and_checkpoints_load(data, tmp_path):
    final = train_sft.main(sft_flags(data, tmp_path, "--num_train_epochs", "3"))
    records = read_metrics(tmp_path / "metrics.jsonl")
    train_loss = [r["train/loss"] for r in records if "train/loss" in r]
    eval_loss = [r["eval/loss"] for r in records if "eval/loss" in r]
    # 18 optimizer steps on 24 examples: the loss must fall clearly, on train and on held-out examples
    assert len(train_loss) == 18 and len(eval_loss) == 3
    assert train_loss[-1] < 0.35 * train_loss[0]
    assert eval_loss[-1] < 0.7 * eval_loss[0]

    # per-epoch folders + final, each loadable with the tokenizer, generation config and resolved arguments
    for name in ("stage1_epoch1", "stage1_epoch2", "stage1_epoch3", "final"):
        folder = tmp_path / name
        for f in ("config.json", "model.safetensors", "tokenizer.json", "generation_config.json"):
            assert (folder / f).exists(), f"{name}/{f}"
        args = yaml.safe_load((folder / "training_args.yaml").read_text())
        assert args["learning_rate"] == 1e-2 and args["num_train_epochs"] == 3 and args["stage"] == "sft"
    assert final == tmp_path / "final"

    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    import modeling_dual_codet5  # noqa: F401

    model = AutoModelForSeq2SeqLM.from_pretrained(final)
    tok = AutoTokenizer.from_pretrained(final)
    assert model.config.model_type == "dual_codet5"
    ex = tiny_examples(1)[0]
    intent, pattern = tok(ex["intent"], return_tensors="pt"), tok(ex["k8s_pattern"], return_tensors="pt")
    out = model.generate(
        input_ids=intent.input_ids, attention_mask=intent.attention_mask,
        pattern_input_ids=pattern.input_ids, pattern_attention_mask=pattern.attention_mask, max_new_tokens=12,
    )  # fmt: skip
    # after 3 epochs the model has learnt at least how every target starts
    assert tok.decode(out[0], skip_special_tokens=True).startswith("apiVersion: apps/v1")


def test_baseline_sft_trains_a_plain_t5(data, tmp_path):
    final = train_sft.main(sft_flags(data, tmp_path, "--model_type", "baseline", "--max_steps", "6"))
    from transformers import T5ForConditionalGeneration

    model = T5ForConditionalGeneration.from_pretrained(final)
    assert model.config.model_type == "t5"
    losses = [r["train/loss"] for r in read_metrics(tmp_path / "metrics.jsonl") if "train/loss" in r]
    assert len(losses) == 6 and losses[-1] < losses[0]


def test_resume_continues_at_saved_step_with_same_optimizer_state(data, tmp_path):
    common = ("--max_steps", "8", "--checkpointing_steps", "5", "--save_total_states", "0")
    # reference run: 8 uninterrupted steps (state saved at step 5, at the epoch end 6, and at 8)
    train_sft.main(sft_flags(data, tmp_path / "a", *common))
    # resumed run: starts from the step-5 state of run a
    resume_from = tmp_path / "a" / "state" / "step_5"
    train_sft.main(sft_flags(data, tmp_path / "b", *common, "--resume_from_checkpoint", str(resume_from)))

    steps_b = [r["step"] for r in read_metrics(tmp_path / "b" / "metrics.jsonl") if "train/loss" in r]
    assert steps_b == [6, 7, 8]  # continued at the saved step, not from 0
    # the same batches and the same optimizer moments -> the same weights and optimizer state at step 8
    weights_a = load_file(tmp_path / "a" / "final" / "model.safetensors")
    weights_b = load_file(tmp_path / "b" / "final" / "model.safetensors")
    assert weights_a.keys() == weights_b.keys()
    for key in weights_a:
        torch.testing.assert_close(weights_a[key], weights_b[key], rtol=1e-5, atol=1e-6, msg=key)
    opt_a = torch.load(tmp_path / "a" / "state" / "step_8" / "optimizer.bin", weights_only=True)
    opt_b = torch.load(tmp_path / "b" / "state" / "step_8" / "optimizer.bin", weights_only=True)
    assert opt_a["state"][0]["step"] == opt_b["state"][0]["step"] == 8
    torch.testing.assert_close(opt_a["state"][0]["exp_avg_sq"], opt_b["state"][0]["exp_avg_sq"], rtol=1e-5, atol=1e-9)


def test_yaml_config_and_flag_override(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("init_from: tiny\nlearning_rate: 0.001\nnum_train_epochs: 5\ngroup_by_length: false\n")
    model_args, data_args, args = parse_config(
        (ModelArguments, DataArguments, SFTArguments), [str(cfg), "--num_train_epochs", "2"]
    )
    assert (model_args.init_from, args.learning_rate, args.num_train_epochs) == ("tiny", 1e-3, 2)
    assert data_args.group_by_length is False
    # the seed's defaults where nothing is said
    assert (args.warmup_steps, args.weight_decay, args.max_grad_norm, args.per_device_train_batch_size) == (
        100, 0.01, 1.0, 4,
    )  # fmt: skip


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--model_type", "encoder"], "model_type"),  # only dual | single | baseline exist
        (["--push_to_hub", "true"], "hub_model_id"),  # a push needs a target repository
        (["--pattern_mode", "target"], "pattern_mode"),  # retrieved | oracle | none
        (["--long_targets", "cut"], "long_targets"),  # truncate | drop
    ],
)
def test_post_init_rejects_bad_arguments(flags, message):
    with pytest.raises(ValueError, match=message):
        parse_config((ModelArguments, DataArguments, SFTArguments), flags)


def test_collator_pads_dynamically_and_masks_labels():
    tok = tiny_tokenizer()
    rows = tiny_examples(3)
    feats = [
        encode_example(r["intent"], r["k8s_pattern"] if i else "", r["yaml"], tok, model_type="dual",
                       max_source_length=64, max_pattern_length=64, max_target_length=64)
        for i, r in enumerate(rows)
    ]  # fmt: skip
    assert feats[0]["pattern_input_ids"] == [tok.eos_token_id]  # an empty pattern is just </s>
    assert all(f["labels"][-1] == tok.eos_token_id for f in feats)
    batch = Seq2SeqCollator(pad_token_id=tok.pad_token_id)(feats)
    longest = max(len(f["input_ids"]) for f in feats)
    assert batch["input_ids"].shape == (3, longest)  # padded to the batch's longest, not to max_length
    assert batch["attention_mask"].sum().item() == sum(len(f["input_ids"]) for f in feats)
    assert batch["pattern_attention_mask"][0].tolist() == [1] + [0] * (batch["pattern_input_ids"].shape[1] - 1)
    assert (batch["labels"] == -100).sum().item() == sum(
        batch["labels"].shape[1] - len(f["labels"]) for f in feats
    )


def test_length_grouped_sampler_cuts_padding_and_depends_on_epoch():
    lengths = [int(x) for x in torch.randint(5, 200, (400,), generator=torch.Generator().manual_seed(0))]

    def padded_tokens(order: list[int]) -> int:
        return sum(max(lengths[i] for i in order[j : j + 8]) * 8 for j in range(0, len(order), 8))

    grouped = LengthGroupedSampler(lengths, batch_size=8, seed=0)
    shuffled = LengthGroupedSampler(lengths, batch_size=8, seed=0, group_by_length=False)
    order0 = list(grouped)
    assert sorted(order0) == list(range(len(lengths)))
    # random batches pad to ~the batch max (~180 of 5-200); grouped ones stay close to the real total
    assert padded_tokens(order0) < 0.65 * padded_tokens(list(shuffled))
    assert padded_tokens(order0) < 1.2 * sum(lengths)
    grouped.set_epoch(1)
    assert list(grouped) != order0  # a new order each epoch
    grouped.set_epoch(0)
    assert list(grouped) == order0  # and the same order again for a resumed epoch


def test_init_from_a_codet5_style_checkpoint(data, tmp_path):
    # a local T5 folder stands in for Salesforce/codet5-base (offline): dual -> from_codet5, baseline -> T5 weights
    from transformers import T5Config, T5ForConditionalGeneration

    tok = tiny_tokenizer()
    t5 = T5ForConditionalGeneration(
        T5Config(vocab_size=len(tok), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4, dropout_rate=0.0,
                 pad_token_id=0, eos_token_id=2, decoder_start_token_id=0)
    )  # fmt: skip
    t5.save_pretrained(tmp_path / "codet5")
    tok.save_pretrained(tmp_path / "codet5")
    flags = [f for f in sft_flags(data, tmp_path, "--max_steps", "2") if f not in ("--init_from", "tiny")]
    flags = [f for f in flags if f != str(data["tokenizer"]) and f != "--tokenizer_name_or_path"]

    dual = train_sft.main([*flags, "--init_from", str(tmp_path / "codet5"), "--output_dir", str(tmp_path / "d")])
    from transformers import AutoModelForSeq2SeqLM

    import modeling_dual_codet5  # noqa: F401

    model = AutoModelForSeq2SeqLM.from_pretrained(dual)
    assert model.config.model_type == "dual_codet5" and model.config.d_model == 32

    base = train_sft.main([*flags, "--init_from", str(tmp_path / "codet5"), "--model_type", "baseline",
                           "--output_dir", str(tmp_path / "b")])  # fmt: skip
    baseline = T5ForConditionalGeneration.from_pretrained(base)
    # 2 steps at lr 1e-2 moved the pretrained weights, starting from them (same shapes)
    assert baseline.shared.weight.shape == t5.shared.weight.shape
    assert not torch.equal(baseline.shared.weight, t5.shared.weight)


@pytest.mark.slow
def test_torch_compile_flag_trains(data, tmp_path):
    # slow on CPU (compilation ~1 min): the compiled model trains and saves a plain (un-wrapped) checkpoint
    final = train_sft.main(sft_flags(data, tmp_path, "--max_steps", "3", "--torch_compile", "true"))
    weights = load_file(final / "model.safetensors")
    assert not any(k.startswith("_orig_mod") for k in weights)


def test_fp16_feed_forward_kept_in_fp32_prevents_overflow():
    # T5's fp16 problem, provoked: wo outputs ~1e5 > 65,504 overflow under fp16 autocast -> NaN loss
    from transformers import T5Config, T5ForConditionalGeneration

    from dual_codet5.precision import keep_feed_forward_fp32

    torch.manual_seed(0)
    model = T5ForConditionalGeneration(
        T5Config(vocab_size=50, d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2, dropout_rate=0.0,
                 decoder_start_token_id=0)
    )  # fmt: skip
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("wo.weight"):
                param.mul_(1e5)
    ids = torch.randint(3, 50, (2, 7), generator=torch.Generator().manual_seed(0))
    with torch.autocast("cpu", dtype=torch.float16):
        assert torch.isnan(model(input_ids=ids, labels=ids).loss)
    assert keep_feed_forward_fp32(model) == 2  # encoder and decoder feed-forward blocks
    with torch.autocast("cpu", dtype=torch.float16):
        loss = model(input_ids=ids, labels=ids).loss
    assert torch.isfinite(loss)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    assert set(model.state_dict()) == set(T5ForConditionalGeneration(model.config).state_dict())  # same keys


def test_fp16_fix_reaches_every_stack_of_the_dual_model():
    from dual_codet5.precision import keep_feed_forward_fp32
    from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration
    from modeling_dual_codet5.presets import preset_config

    model = DualCodeT5ForConditionalGeneration(preset_config("tiny"))
    cfg = model.config
    assert keep_feed_forward_fp32(model) == cfg.num_layers + cfg.pattern_num_layers + cfg.num_decoder_layers


def test_pipeline_chains_the_stages(tmp_path, capsys):
    # the one-command pipeline: same tokenizer for both SFT runs, RL from the SFT dual model, baseline evaluated first
    import run_pipeline

    run_pipeline.main(["--preset", "cpu-demo", "--output_dir", str(tmp_path), "--dry_run"])
    commands = [line for line in capsys.readouterr().out.splitlines() if line.startswith("$ ")]
    assert len(commands) == 4
    sft_base, sft_dual, rl, evaluate = commands
    assert all(c.startswith("$ OMP_NUM_THREADS=1 ") for c in commands[:3])
    assert "--model_type baseline" in sft_base and "--model_type dual" in sft_dual
    assert f"--tokenizer_name_or_path {tmp_path}/tokenizer" in sft_base and f"{tmp_path}/tokenizer" in sft_dual
    assert f"train_rl.py configs/rl_tiny.yaml --init_from {tmp_path}/sft_dual/final" in rl
    assert f"--models baseline={tmp_path}/sft_baseline/final sft_dual={tmp_path}/sft_dual/final " in evaluate
    assert f"rl_dual={tmp_path}/rl_dual/final" in evaluate


def test_resuming_a_finished_run_trains_no_further(data, tmp_path):
    # regression: resuming from the last state of a run that had reached --max_steps mid-epoch ran one more step
    flags = sft_flags(data, tmp_path, "--max_steps", "2", "--checkpointing_steps", "2")
    train_sft.main(flags)
    before = load_file(tmp_path / "final" / "model.safetensors")
    train_sft.main([*flags, "--resume_from_checkpoint", "latest"])
    assert [r["step"] for r in read_metrics(tmp_path / "metrics.jsonl") if "train/loss" in r] == [1, 2]
    after = load_file(tmp_path / "final" / "model.safetensors")
    for key in before:
        torch.testing.assert_close(after[key], before[key], rtol=0, atol=0, msg=key)


EVAL_WORKER = """
import sys
import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader
sys.path.insert(0, {repo!r})
import train_rl, train_sft
from dual_codet5.collate import Seq2SeqCollator, encode_example
from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration
from modeling_dual_codet5.presets import preset_config
from tests.training_fixtures import tiny_examples, tiny_tokenizer

acc, tok, rows = Accelerator(cpu=True), tiny_tokenizer(), tiny_examples(5)
feats = [
    encode_example(r["intent"], r["k8s_pattern"], r["yaml"], tok, model_type="dual", max_source_length=16,
                   max_pattern_length=16, max_target_length=40) | {{"example_index": i}}
    for i, r in enumerate(rows)
]
torch.manual_seed(0)
model = DualCodeT5ForConditionalGeneration(preset_config(
    "tiny", vocab_size=len(tok), pad_token_id=0, eos_token_id=2, decoder_start_token_id=0, dropout_rate=0.0))
# 5 examples in batches of 2 over 2 processes: Accelerate repeats one example to give both processes 2 batches
loader = acc.prepare(DataLoader(feats, batch_size=2, collate_fn=Seq2SeqCollator(pad_token_id=0)))
loss = train_sft.evaluate_loss(model, loader, acc)
args = type("Args", (), {{"max_new_tokens": 2, "eval_max_new_tokens": None}})
reward = train_rl.greedy_eval(model, loader, [r["yaml"] for r in rows],
                              lambda texts, refs: [float(len(r)) for r in refs], tok, args, acc)
if acc.is_main_process:
    full = next(iter(DataLoader(feats, batch_size=5, collate_fn=Seq2SeqCollator(pad_token_id=0))))
    with torch.no_grad():
        expected = model.eval()(**train_sft.model_inputs(full)).loss.item()
    print("RESULT", loss, expected, reward, sum(len(r["yaml"]) for r in rows) / 5)
"""


def test_two_process_eval_counts_every_example_once(tmp_path):
    # regression: the eval loss (SFT) and the greedy eval reward (RL) summed over the batches that Accelerate pads
    # with repeated examples so that every process gets as many batches, which weighted those examples twice
    import os
    import subprocess
    import sys

    from tests.test_train_distributed import REPO, free_port

    worker = tmp_path / "eval_worker.py"
    worker.write_text(EVAL_WORKER.format(repo=str(REPO)))
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
           str(worker)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
    loss, expected_loss, reward, expected_reward = map(float, line.split()[1:])
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert reward == pytest.approx(expected_reward, rel=1e-6)


def test_long_target_policy_counts_then_drops_or_keeps(caplog):
    import logging

    from datasets import Dataset

    from dual_codet5.collate import apply_long_target_policy, tokenize_dataset

    tok = tiny_tokenizer()
    rows = tiny_examples(6)
    for i in (1, 4):  # two targets get longer
        rows[i]["yaml"] += "  labels:\n    app: web\n" * i
    lengths = [len(tok(r["yaml"])["input_ids"]) for r in rows]
    limit = min(lengths)  # targets of exactly `limit` tokens are not long
    n_long = sum(n > limit for n in lengths)
    assert n_long == 2
    ds = Dataset.from_list(rows)
    encoded = tokenize_dataset(ds, tok, model_type="dual", max_source_length=64, max_pattern_length=64,
                               max_target_length=limit)  # fmt: skip
    with caplog.at_level(logging.INFO, logger="dual_codet5.collate"):
        kept, report = apply_long_target_policy(encoded, ds["yaml"], tok, limit, "truncate")
    assert len(kept) == len(rows) and report["long"] == n_long and "truncated" in caplog.text
    dropped, report = apply_long_target_policy(encoded, ds["yaml"], tok, limit, "drop")
    assert len(dropped) == len(rows) - n_long == report["kept"]
    assert report["long_share"] == pytest.approx(n_long / len(rows))
    # what is left is whole: every kept target ends at its own </s>, none was cut
    full = {tuple(tok(r["yaml"])["input_ids"]) for r, n in zip(rows, lengths) if n <= limit}
    assert {tuple(x) for x in dropped["labels"]} == full
    with pytest.raises(ValueError, match="long target policy"):
        apply_long_target_policy(encoded, ds["yaml"], tok, limit, "cut")


def test_metrics_log_records_training_time_across_a_resume(tmp_path):
    from dual_codet5.train_utils import MetricsLog

    log = MetricsLog(tmp_path / "metrics.jsonl", enabled=True)
    log.write(1, {"train/loss": 2.0})
    log.offset += 100.0  # as if the first run had trained for 100 s more before stopping
    log.write(2, {"train/loss": 1.5})
    resumed = MetricsLog(tmp_path / "metrics.jsonl", enabled=True)  # a resumed run continues the clock
    resumed.write(3, {"train/loss": 1.0})
    elapsed = [r["elapsed_s"] for r in read_metrics(tmp_path / "metrics.jsonl")]
    assert elapsed[0] >= 0 and elapsed[1] >= 100 and elapsed[2] >= elapsed[1]
    assert not MetricsLog(tmp_path / "off.jsonl", enabled=False).path.exists()
