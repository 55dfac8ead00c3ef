"""Two CPU processes (gloo) run a few steps of each script, finish on both ranks and write a loadable checkpoint.

Launched with ``torch.distributed.run`` and ``ACCELERATE_USE_CPU=1`` (what ``accelerate launch --cpu`` does minus
its MPI requirement for several CPU processes): Accelerate then sets up MULTI_CPU with the gloo backend and DDP.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.training_fixtures import TINY_MODEL_FLAGS, save_tiny_tokenizer, tiny_examples, write_jsonl

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(script: str, flags: list[str]) -> str:
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
           script, *flags]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "MULTI_CPU  Backend: gloo" in out, out[-2000:]
    return out


def load_and_generate(folder: Path) -> torch.Tensor:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    import modeling_dual_codet5  # noqa: F401

    model = AutoModelForSeq2SeqLM.from_pretrained(folder)
    tok = AutoTokenizer.from_pretrained(folder)
    enc = tok(["deploy web with 1 replicas of nginx"], return_tensors="pt")
    return model.generate(
        input_ids=enc.input_ids, attention_mask=enc.attention_mask, pattern_input_ids=enc.input_ids,
        pattern_attention_mask=enc.attention_mask, max_new_tokens=5,
    )  # fmt: skip


def test_two_process_sft_then_rl(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", tiny_examples(16))
    tok = save_tiny_tokenizer(tmp_path / "tok")
    common = [*TINY_MODEL_FLAGS, "--train_file", str(train), "--max_steps", "2", "--per_device_train_batch_size", "2"]

    out = launch("train_sft.py", [*common, "--tokenizer_name_or_path", str(tok),
                                  "--output_dir", str(tmp_path / "sft")])  # fmt: skip
    assert "[RANK 0] finished" in out and "[RANK 1] finished" in out
    sft_final = tmp_path / "sft" / "final"
    assert load_and_generate(sft_final).shape[0] == 1

    out = launch("train_rl.py", [*common, "--init_from", str(sft_final), "--num_samples", "2",
                                 "--max_new_tokens", "6", "--reward_fn", "tests.training_fixtures:toy_reward",
                                 "--output_dir", str(tmp_path / "rl")])  # fmt: skip
    assert "[RANK 0] finished" in out and "[RANK 1] finished" in out
    assert load_and_generate(tmp_path / "rl" / "final").shape[0] == 1
    # the RL update changed the weights (gradients were all-reduced and applied)
    from safetensors.torch import load_file

    before, after = load_file(sft_final / "model.safetensors"), load_file(tmp_path / "rl/final/model.safetensors")
    assert any(not torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("script", ["train_sft.py", "train_rl.py"])
def test_module_docstring_has_copy_paste_commands(script):
    text = (REPO / script).read_text()
    assert "accelerate launch --config_file configs/accelerate/multi_gpu.yaml" in text
    for config in ("configs/accelerate/multi_gpu.yaml", "configs/accelerate/t4_fp16.yaml",
                   "configs/accelerate/a100_bf16.yaml"):  # fmt: skip
        assert (REPO / config).exists(), config


@pytest.mark.parametrize(
    "name, distributed, precision",
    [
        ("single_gpu", "NO", "no"),
        ("multi_gpu", "MULTI_GPU", "bf16"),  # DDP
        ("t4_fp16", "NO", "fp16"),  # Turing has no bf16
        ("a100_bf16", "NO", "bf16"),
        ("deepspeed_zero2", "DEEPSPEED", "bf16"),  # ZeRO-2 for the large CodeT5+ variants
        ("deepspeed_zero2_t4_fp16", "DEEPSPEED", "fp16"),
    ],
)
def test_accelerate_configs_parse(name, distributed, precision):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(REPO / "configs" / "accelerate" / f"{name}.yaml"))
    assert config.distributed_type.value == distributed and config.mixed_precision == precision
    if distributed == "DEEPSPEED":
        assert config.deepspeed_config["zero_stage"] == 2


@pytest.mark.parametrize("name", ["sft_tiny", "sft_small", "sft_base", "rl_tiny", "rl_small", "rl_base"])
def test_training_presets_parse(name):
    from dual_codet5.training_args import DataArguments, ModelArguments, RLArguments, SFTArguments, parse_config

    run_args = RLArguments if name.startswith("rl") else SFTArguments
    config = str(REPO / "configs" / f"{name}.yaml")
    model_args, data_args, args = parse_config((ModelArguments, DataArguments, run_args), [config])
    if name.endswith("base"):  # the seed's recipe
        assert args.num_train_epochs == (2 if name.startswith("rl") else 3)
        assert args.learning_rate == (1e-5 if name.startswith("rl") else 5e-5)
        assert args.max_grad_norm == 1.0 and args.weight_decay == 0.01
