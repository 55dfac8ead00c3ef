"""What a user sees (issue 12, items 2 and 5): `dual-codet5 generate` exit status and summary, and no noise.

- exit status 1 whenever the answer is not schema-valid, 0 when it is (failing checks are advice);
- the stderr summary lists fixes that apply to the object (no "set X on every container" for a pod spec without
  containers);
- the CLI passes its decoding defaults (early stop, 10 s per intent) down to `generate_yaml`;
- no "Removed shared tensor" warning when saving training state, no `gradient_checkpointing_enable` FutureWarning in
  training, no "Loading weights" progress bar on a CLI call.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest
import torch

import dual_codet5.inference as inference
from dual_codet5.cli import NO_CONTAINERS_DETAIL, applicable_fixes, main
from dual_codet5.generate import lint_report

VALID = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""
UNKNOWN_KIND = "apiVersion: networking.k8s.io/v1\nkind: ing\nmetadata:\n  name: web\n"  # valid YAML, no such kind
MISSING_FIELD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec: {}\n"  # a Pod needs containers
NOT_YAML = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web\n"
NO_CONTAINERS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers: []
"""


class _FixedDecoder:
    """Stands in for `generate_yaml`: one fixed output, and the arguments it was called with."""

    def __init__(self, text: str):
        self.text = text
        self.calls: list[dict] = []

    def __call__(self, loaded, intents, patterns, **kwargs):
        self.calls.append(kwargs)
        return [[self.text] * kwargs["num_return_sequences"] for _ in intents]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    from k8s_data import train_tokenizer
    from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration
    from modeling_dual_codet5.presets import preset_config

    tokenizer = train_tokenizer([VALID, NO_CONTAINERS, "deploy nginx"] * 4, vocab_size=300, min_frequency=1)
    torch.manual_seed(0)
    model = DualCodeT5ForConditionalGeneration(preset_config("tiny", vocab_size=len(tokenizer)))
    folder = tmp_path_factory.mktemp("tiny_dual")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _cli(argv, capsys) -> tuple[int, str, str]:
    """`dual-codet5 generate` on what the (stubbed) model writes: the default retrieval fallback turned off."""
    if argv and argv[0] == "generate" and "--fallback" not in argv:
        argv = [*argv, "--fallback", "none"]
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    ("text", "status"),
    [
        (VALID, 0),  # schema-valid: 0 even though checks fail (advice, listed on stderr)
        (UNKNOWN_KIND, 1),  # valid YAML but no such kind: a schema error, the answer cannot be applied
        (MISSING_FIELD, 1),  # a required field is missing: schema error
        (NOT_YAML, 1),  # not even YAML
    ],
)
def test_exit_status_follows_schema_validity(text, status, tiny_model_dir, monkeypatch, capsys):
    monkeypatch.setattr(inference, "generate_yaml", _FixedDecoder(text))
    code, out, err = _cli(["generate", "x", "--model", str(tiny_model_dir), "--device", "cpu"], capsys)
    assert code == status and out == text
    assert ("schema: yes" in err) == (status == 0)


def test_summary_lists_only_fixes_that_apply(tiny_model_dir, monkeypatch, capsys):
    # a Deployment with an empty container list: 18 container checks fail with "the pod spec has no containers";
    # "Remove securityContext.privileged" or "Add a livenessProbe to every app container" cannot be done to it.
    report = lint_report(NO_CONTAINERS)
    by_detail = [f for f in report["failing"] if f["details"] == [NO_CONTAINERS_DETAIL]]
    assert len(by_detail) >= 10  # the premise (and the judge's wording the CLI relies on)
    monkeypatch.setattr(inference, "generate_yaml", _FixedDecoder(NO_CONTAINERS))
    _, _, err = _cli(["generate", "x", "--model", str(tiny_model_dir), "--device", "cpu"], capsys)
    assert "Deployment/web: the pod spec has no containers: add one" in err
    for failure in by_detail:
        assert f"{failure['check_id']:30} Deployment/web" not in err
    # the checks whose fix does apply are still listed with it
    assert "bp.explicit_namespace" in err and "Set metadata.namespace" in err
    assert "bp.pod_anti_affinity_or_spread" in err


def test_applicable_fixes_split():
    failing = [
        {"check_id": "bp.cpu_limits", "object": "Deployment/a", "details": [NO_CONTAINERS_DETAIL], "fix": "f"},
        {"check_id": "bp.cpu_limits", "object": "Deployment/b", "details": ['container "c": no cpu'], "fix": "f"},
        {"check_id": "bp.explicit_namespace", "object": "Deployment/a", "details": ["not set"], "fix": "f"},
        {"check_id": "sec.no_privileged", "object": "Deployment/a", "details": [NO_CONTAINERS_DETAIL], "fix": "f"},
    ]
    applicable, no_containers = applicable_fixes(failing)
    assert [(f["check_id"], f["object"]) for f in applicable] == [
        ("bp.cpu_limits", "Deployment/b"),  # the same check on an object with containers: its fix applies
        ("bp.explicit_namespace", "Deployment/a"),  # not a container check
    ]
    assert no_containers == {"Deployment/a": ["bp.cpu_limits", "sec.no_privileged"]}


@pytest.mark.parametrize(
    ("flags", "early_stop", "max_time"),
    [
        ([], True, 10.0),  # the CPU defaults: early stop on, 10 s per intent
        (["--max_time", "0"], True, None),  # 0 = no budget
        (["--no_early_stop", "--max_time", "2.5"], False, 2.5),
    ],
)
def test_cli_decoding_defaults(flags, early_stop, max_time, tiny_model_dir, monkeypatch, capsys):
    decoder = _FixedDecoder(VALID)
    monkeypatch.setattr(inference, "generate_yaml", decoder)
    _cli(["generate", "x", "--model", str(tiny_model_dir), "--device", "cpu", *flags], capsys)
    (call,) = decoder.calls
    assert call["early_stop"] is early_stop and call["max_time"] == max_time


def test_negative_time_budget_is_a_usage_error(capsys):
    assert main(["generate", "x", "--model", "m", "--max_time", "-1"]) == 2
    assert "--max_time" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------- noise
NOISE = ("Removed shared tensor", "Loading weights", "gradient_checkpointing_enable", "Writing model shards")


def test_cli_call_prints_no_progress_bar_or_warning(tiny_model_dir, capsys, caplog, recwarn):
    # the real command on a real (tiny, random) model: stderr has the summary and nothing else
    caplog.set_level(logging.WARNING)
    status, out, err = _cli(
        ["generate", "deploy nginx", "--model", str(tiny_model_dir), "--device", "cpu", "--max_new_tokens", "8",
         "--num_beams", "2", "--pattern", "/dev/null"], capsys,
    )  # fmt: skip
    assert status in (0, 1) and err.startswith("valid YAML:")
    for noise in NOISE:
        assert noise not in err and noise not in out
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert not [w for w in recwarn if issubclass(w.category, (FutureWarning, DeprecationWarning))]
    # the bars are only off while loading: the setting is restored
    from transformers.utils import logging as hf_logging

    assert hf_logging.is_progress_bar_enabled()


@pytest.mark.parametrize("model_type", ["dual", "baseline"])
def test_save_state_of_a_tied_model_warns_nothing_and_resumes_exactly(model_type, tmp_path, caplog):
    # the 17 warnings per pipeline run came from accelerator.save_state on models with tied weights (the LM head
    # shares the embedding; T5 also shares it with both stacks): each alias was dropped with a warning
    from accelerate import Accelerator

    from dual_codet5.train_utils import load_training_state, save_training_state
    from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration
    from modeling_dual_codet5.presets import baseline_t5_config, preset_config

    torch.manual_seed(0)
    config = preset_config("tiny")
    if model_type == "dual":
        model = DualCodeT5ForConditionalGeneration(config)
    else:
        from transformers import T5ForConditionalGeneration

        model = T5ForConditionalGeneration(baseline_t5_config(config))
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight  # the premise: tied
    accelerator = Accelerator(cpu=True)
    model = accelerator.prepare(model)
    caplog.set_level(logging.INFO)
    folder = save_training_state(accelerator, str(tmp_path), step=3, epoch=0, keep=0)
    assert not [r for r in caplog.records if "shared tensor" in r.getMessage()], caplog.text
    from safetensors.torch import load_file

    stored = load_file(folder / "model.safetensors")
    assert len(stored) == len({p.data_ptr() for p in model.state_dict().values()})  # each tensor once

    # resume into a differently initialised model: every weight comes back and the tie holds
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()
    caplog.clear()
    assert load_training_state(accelerator, folder) == 3
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, saved[key], msg=key)
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight


def test_drop_tied_aliases_keeps_everything_that_is_not_an_exact_alias():
    from dual_codet5.train_utils import drop_tied_aliases

    base = torch.zeros(4, 3)
    state = {
        "a": base,
        "tied": base,  # the same tensor under another name: dropped
        "view": base[:2],  # a partial view shares storage but is not the same tensor: kept (accelerate decides)
        "transposed": base.t(),  # same storage and offset, other shape/strides: kept
        "copy": base.clone(),  # equal values, own storage: kept
        "note": "not a tensor",
    }
    assert drop_tied_aliases(state) == ["tied"]
    assert list(state) == ["a", "view", "transposed", "copy", "note"]


def test_training_emits_no_deprecation_or_shared_tensor_warning(tmp_path, caplog):
    # one short SFT run with activation checkpointing and a state save: the two warnings issue 12 counted
    import train_sft
    from tests.training_fixtures import TINY_MODEL_FLAGS, write_tiny_data

    (tmp_path / "data").mkdir()
    data = write_tiny_data(tmp_path / "data", n=10, n_train=8)
    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train_sft.main(
            [*TINY_MODEL_FLAGS, "--output_dir", str(tmp_path / "run"), "--tokenizer_name_or_path",
             str(data["tokenizer"]), "--train_file", str(data["train"]), "--max_steps", "1",
             "--activation_checkpointing", "true", "--per_device_train_batch_size", "4"]
        )  # fmt: skip
    assert (tmp_path / "run" / "state").is_dir()  # save_state ran
    assert not [w for w in caught if "checkpointing" in str(w.message)], [str(w.message) for w in caught]
    assert not [r for r in caplog.records if "shared tensor" in r.getMessage()], caplog.text
