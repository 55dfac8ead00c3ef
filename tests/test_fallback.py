"""The pattern bank travels with the model, and the retrieval fallback of `generate_manifest` / `dual-codet5 generate`.

A tiny DualCodeT5 with random weights writes junk (never a schema-valid manifest), which is what the fallback is for.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
import torch

from dual_codet5.cli import main
from dual_codet5.generate import generate_manifest
from dual_codet5.inference import load_for_inference
from k8s_data import (
    PatternBank,
    RetrievalConfig,
    default_pattern_bank,
    load_retrieval,
    retrieve_manifest,
    save_retrieval,
)
from k8s_scoring import score

SERVICE = (
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n"
    "  - port: 80\n"
)
CRONJOB = (
    "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: backup\nspec:\n  schedule: 0 3 * * *\n  jobTemplate:\n"
    "    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers:\n"
    "          - name: backup\n            image: postgres:16\n"
)
TRAIN = [
    {"id": "t0", "intent": "a service for the web pods on port 80", "yaml": SERVICE},
    {"id": "t1", "intent": "a cron job that backs up the database every night", "yaml": CRONJOB},
]
INTENT = "nightly cron job for a database backup"


@pytest.fixture(scope="module")
def junk_model(tmp_path_factory) -> Path:
    """A tiny random DualCodeT5 (writes junk), saved WITHOUT retrieval files, like a model trained before them."""
    from k8s_data import train_tokenizer
    from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration
    from modeling_dual_codet5.presets import preset_config

    tokenizer = train_tokenizer([SERVICE, CRONJOB, INTENT] * 4, vocab_size=300, min_frequency=1)
    torch.manual_seed(0)
    model = DualCodeT5ForConditionalGeneration(preset_config("tiny", vocab_size=len(tokenizer)))
    folder = tmp_path_factory.mktemp("junk_model")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture()
def model_with_bank(junk_model, tmp_path) -> tuple[Path, PatternBank, RetrievalConfig]:
    """The same model with its own two-example bank and exemplar settings saved beside it."""
    folder = shutil.copytree(junk_model, tmp_path / "with_bank")
    bank, config = PatternBank.from_records(TRAIN), RetrievalConfig(pattern_format="exemplar")
    save_retrieval(folder, bank, config)
    return folder, bank, config


def test_patterns_and_fallback_come_from_the_models_own_bank(model_with_bank):
    folder, bank, config = model_with_bank
    loaded = load_for_inference(str(folder), device="cpu")
    assert loaded.retrieval[1] == config and len(loaded.retrieval[0]) == 2
    result = generate_manifest(INTENT, model=loaded, fallback="retrieval", max_new_tokens=8, num_beams=1)
    # the pattern is the exemplar of ITS bank (the CronJob it holds), as the model was trained to read it
    assert result.pattern == bank.pattern_for(INTENT, config) == CRONJOB.strip("\n")
    # junk in, so the retrieved manifest out, marked as such everywhere
    assert not any(c["schema_valid"] for c in result.candidates)
    assert result.fallback_used and result.source == "retrieval-fallback"
    assert result.yaml == result.raw_yaml == retrieve_manifest(INTENT, bank) == CRONJOB
    assert result.lint["schema_valid"] == 1
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["fallback_used"] is True and payload["source"] == "retrieval-fallback"
    assert payload["candidates"][payload["best_index"]]["yaml"] != payload["yaml"]  # the model's own is still there


def test_without_fallback_the_models_output_is_returned(model_with_bank):
    folder, _, _ = model_with_bank
    result = generate_manifest(INTENT, model=str(folder), max_new_tokens=8, num_beams=1, device="cpu")
    assert result.source == "model" and not result.fallback_used and not result.lint["schema_valid"]
    assert result.yaml == result.candidates[result.best_index]["yaml"]


def test_fallback_with_repair_repairs_the_retrieved_manifest(model_with_bank):
    folder, bank, _ = model_with_bank
    result = generate_manifest(INTENT, model=str(folder), fallback="retrieval", repair=True, max_new_tokens=8,
                               num_beams=1, device="cpu")  # fmt: skip
    assert result.fallback_used and result.raw_yaml == CRONJOB and result.changes
    assert result.yaml != CRONJOB  # the retrieved manifest, repaired like any candidate
    assert result.lint["quality"] >= score(CRONJOB)["quality"]


def test_unknown_fallback_is_an_error():
    with pytest.raises(ValueError, match="fallback must be one of"):
        generate_manifest("x", model=object(), fallback="nearest")


def test_a_model_trained_on_skeletons_keeps_working(junk_model, caplog):
    # a folder without retrieval files: default bank, legacy skeleton settings, and a warning that says so
    with caplog.at_level(logging.WARNING):
        loaded = load_for_inference(str(junk_model), device="cpu")
        bank, config = loaded.retrieval
    assert "no retrieval_config.json" in caplog.text
    assert bank is default_pattern_bank() and config.pattern_format == "skeleton" and not config.kind_aware
    result = generate_manifest(INTENT, model=loaded, max_new_tokens=8, num_beams=1)
    assert result.pattern == bank.pattern_for(INTENT, config) and "apiVersion" in result.pattern


def test_cli_fallback_json_and_summary(model_with_bank, monkeypatch, capsys):
    folder, _, _ = model_with_bank
    argv = ["generate", INTENT, "--model", str(folder), "--max_new_tokens", "8", "--num_beams", "1",
            "--device", "cpu", "--fallback", "retrieval"]  # fmt: skip
    status = main(argv)
    out, err = capsys.readouterr()
    assert out == CRONJOB and "FALLBACK: no candidate was schema-valid" in err and status == 0
    status = main([*argv, "--format", "json"])
    obj = json.loads(capsys.readouterr().out)
    assert obj["fallback_used"] is True and obj["yaml"] == CRONJOB and status == 0
    # the fallback is the default: the same answer without the flag
    assert main(argv[:-2]) == 0 and capsys.readouterr()[0] == CRONJOB
    # --fallback none: the model's junk, not marked, exit status 1
    status = main([*argv[:-1], "none"])
    out, err = capsys.readouterr()
    assert out != CRONJOB and "FALLBACK" not in err and status == 1
    assert main([*argv[:-1], "nearest"]) == 2  # not a choice: usage error


def test_training_saves_the_retrieval_with_every_checkpoint(tmp_path):
    # save_checkpoint (the one place both training scripts save through) writes the bank and settings of the
    # data arguments; load_retrieval reads them back
    from accelerate import Accelerator
    from transformers import T5Config, T5ForConditionalGeneration

    from dual_codet5.train_utils import save_checkpoint, save_model_retrieval
    from k8s_data import train_tokenizer

    tokenizer = train_tokenizer([SERVICE, CRONJOB] * 4, vocab_size=300, min_frequency=1)
    model = T5ForConditionalGeneration(T5Config(vocab_size=len(tokenizer), d_model=16, d_ff=32, num_layers=1,
                                                num_heads=2, d_kv=8, decoder_start_token_id=0))  # fmt: skip
    resolved = {"data_seed": 0, "train_file": None, "pattern_format": "exemplar", "exemplar_k": 2,
                "kind_aware": True, "compose": False, "train_sample_top": 3, "exemplar_mask_prob": 0.15,
                "learning_rate": 5e-5}  # fmt: skip
    folder = save_checkpoint(Accelerator(cpu=True), model, tokenizer, tmp_path / "final", resolved)
    bank, config = load_retrieval(folder)
    assert config == RetrievalConfig(pattern_format="exemplar", exemplar_k=2, exemplar_mask_prob=0.15)
    assert [e.id for e in bank.entries] == [e.id for e in default_pattern_bank().entries]
    # arguments without data arguments (not a training run): nothing is guessed
    assert save_model_retrieval(tmp_path / "other", {"learning_rate": 5e-5}) is False
    assert not (tmp_path / "other").exists()
