"""--push_to_hub with the Hub API mocked: the uploaded folder holds everything a Hub user needs, nothing pickled."""

import json
from pathlib import Path
from unittest import mock

import pytest

import train_sft
from dual_codet5.hub import missing_export_files, push_checkpoint, write_model_card
from tests.training_fixtures import (
    TINY_MODEL_FLAGS,
    one_torch_thread,  # noqa: F401  (autouse fixture)
    save_tiny_tokenizer,
    tiny_examples,
    write_jsonl,
)

REQUIRED = {
    "config.json", "configuration_dual_codet5.py", "modeling_dual_codet5.py", "model.safetensors",
    "tokenizer.json", "tokenizer_config.json", "generation_config.json", "README.md",
}  # fmt: skip


class FakeHfApi:
    """Records what would have been uploaded (the folder's files at upload time)."""

    instances: list["FakeHfApi"] = []

    def __init__(self, token=None):
        self.created: list[dict] = []
        self.uploads: list[dict] = []
        FakeHfApi.instances.append(self)

    def create_repo(self, repo_id, **kwargs):
        self.created.append({"repo_id": repo_id, **kwargs})

    def upload_folder(self, folder_path, repo_id, **kwargs):
        folder = Path(folder_path)
        files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        self.uploads.append({"repo_id": repo_id, "files": files, **kwargs})
        return mock.Mock(commit_url=f"https://huggingface.co/{repo_id}/commit/0")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hub")
    FakeHfApi.instances.clear()
    with mock.patch("dual_codet5.hub.HfApi", FakeHfApi):
        train_sft.main(
            [*TINY_MODEL_FLAGS, "--output_dir", str(root / "run"),
             "--tokenizer_name_or_path", str(save_tiny_tokenizer(root / "tok")),
             "--train_file", str(write_jsonl(root / "train.jsonl", tiny_examples(8))),
             "--max_steps", "2", "--push_to_hub", "true", "--hub_model_id", "someone/dual-codet5-tiny"]
        )  # fmt: skip
    return root / "run" / "final"


def test_push_uploads_the_right_files(trained):
    (api,) = FakeHfApi.instances
    assert api.created == [{"repo_id": "someone/dual-codet5-tiny", "private": False, "exist_ok": True,
                            "repo_type": "model"}]  # fmt: skip
    (upload,) = api.uploads
    assert upload["repo_id"] == "someone/dual-codet5-tiny"
    files = upload["files"]
    assert REQUIRED <= files.keys()
    config = json.loads(files["config.json"])
    assert config["auto_map"]["AutoModelForSeq2SeqLM"].endswith("DualCodeT5ForConditionalGeneration")
    assert config["auto_map"]["AutoConfig"].endswith("DualCodeT5Config")
    # nothing pickled goes up: the ignore patterns exclude it even if someone drops a .bin into the folder
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in files)
    assert "*.bin" in upload["ignore_patterns"] and "*.pkl" in upload["ignore_patterns"]
    card = files["README.md"].decode()
    assert card.startswith("---\nlicense: apache-2.0") and "trust_remote_code=True" in card
    assert "pattern_input_ids" in card and "learning_rate" in card


def test_uploaded_folder_loads_as_remote_code(trained, tmp_path):
    # what a Hub user gets: the folder loads through auto_map with trust_remote_code, no package import needed
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(trained, trust_remote_code=True)
    assert config.model_type == "dual_codet5"


def test_incomplete_folder_is_refused_before_any_upload(trained, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(trained, broken)
    (broken / "tokenizer.json").unlink()
    (broken / "modeling_dual_codet5.py").unlink()
    missing = missing_export_files(broken)
    assert any("tokenizer.json" in m for m in missing) and any("modeling_dual_codet5.py" in m for m in missing)
    FakeHfApi.instances.clear()
    with mock.patch("dual_codet5.hub.HfApi", FakeHfApi), pytest.raises(ValueError, match="tokenizer"):
        push_checkpoint(broken, "someone/broken")
    assert FakeHfApi.instances == []  # refused before the API was touched


def test_model_card_reports_metrics(trained, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(trained, folder)
    card = write_model_card(folder, repo_id="x/y", stage="rl", metrics={"bp": 91.5}).read_text()
    assert "RLOO" in card and "| bp | 91.5 |" in card
