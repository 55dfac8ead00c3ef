"""Two CPU processes (gloo) run a few steps of each script, finish on both ranks and write a loadable checkpoint.

Launched with ``torch.distributed.run`` and ``ACCELERATE_USE_CPU=1`` (what ``accelerate launch --cpu`` does minus
its MPI requirement for several CPU processes): Accelerate then sets up MULTI_CPU with the gloo backend and DDP.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.training_fixtures import TINY_MODEL_FLAGS, save_tiny_tokenizer, tiny_examples, write_jsonl

REPO = Path(__file__).resolve().parents[1]


def launch(script: str, flags: list[str], port: int) -> str:
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(port),
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
                                  "--output_dir", str(tmp_path / "sft")], port=29517)  # fmt: skip
    assert "[RANK 0] finished" in out and "[RANK 1] finished" in out
    sft_final = tmp_path / "sft" / "final"
    assert load_and_generate(sft_final).shape[0] == 1

    out = launch("train_rl.py", [*common, "--init_from", str(sft_final), "--num_samples", "2",
                                 "--max_new_tokens", "6", "--reward_fn", "tests.training_fixtures:toy_reward",
                                 "--output_dir", str(tmp_path / "rl")], port=29518)  # fmt: skip
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
