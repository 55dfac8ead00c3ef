"""The `datasets` builder: features, splits, content-hash cache, seed-format config, Parquet push (Hub mocked)."""

import json
from pathlib import Path
from unittest import mock

import datasets
import pytest

from k8s_data import load_k8s_intents, make_builder
from k8s_data.builder import FEATURES
from k8s_data.corpus import CORPUS_FILE, CorpusError
from k8s_data.hub import push_to_hub


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    """The first 600 real corpus lines: a fast build with every code path."""
    path = tmp_path_factory.mktemp("corpus") / "manifests.jsonl"
    with open(CORPUS_FILE, encoding="utf-8") as handle:
        path.write_text("".join(line for _, line in zip(range(600), handle)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built(small_corpus, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return load_k8s_intents(corpus_file=small_corpus, cache_dir=cache), cache


def test_features_and_splits(built):
    dataset, _ = built
    assert set(dataset) == {"train", "validation", "test"}
    for split in dataset.values():
        assert split.features == FEATURES
    sizes = {name: len(split) for name, split in dataset.items()}
    assert sizes["train"] > 3 * (sizes["validation"] + sizes["test"]) > 0
    row = dataset["train"][0]
    assert row["intent"] and row["yaml"] and row["kinds"] and row["license"]


def test_cache_is_keyed_by_content(small_corpus, built, tmp_path):
    _, cache = built
    same = make_builder(corpus_file=small_corpus, cache_dir=cache)
    other_mode = make_builder("oracle", corpus_file=small_corpus, cache_dir=cache)
    assert same.hash == make_builder(corpus_file=small_corpus, cache_dir=cache).hash
    assert other_mode.hash != same.hash
    edited = tmp_path / "manifests.jsonl"
    lines = small_corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    edited.write_text("".join(lines[:-1]), encoding="utf-8")  # one record fewer, same file name pattern
    rebuilt = load_k8s_intents(corpus_file=edited, cache_dir=cache)
    assert sum(map(len, rebuilt.values())) <= sum(map(len, built[0].values()))
    assert make_builder(corpus_file=edited, cache_dir=cache).hash != same.hash


def test_pattern_modes(small_corpus, tmp_path):
    oracle = load_k8s_intents("oracle", corpus_file=small_corpus, cache_dir=tmp_path)
    none = load_k8s_intents("none", corpus_file=small_corpus, cache_dir=tmp_path)
    assert all(p == "" for p in none["test"]["k8s_pattern"])
    assert all(p.startswith("apiVersion") or "kind:" in p for p in oracle["test"]["k8s_pattern"])
    with pytest.raises(ValueError, match="pattern_mode"):
        make_builder("target", corpus_file=small_corpus, cache_dir=tmp_path)


def test_bad_corpus_line_is_reported(small_corpus, tmp_path):
    broken = tmp_path / "manifests.jsonl"
    lines = small_corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    broken.write_text("".join(lines[:9]) + '{"id": "x"\n' + "".join(lines[9:]), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"manifests\.jsonl:10: not valid JSON"):
        load_k8s_intents(corpus_file=broken, cache_dir=tmp_path / "cache")


SEED_ITEMS = [
    {"intent": f"Create a deployment number {i} running nginx", "yaml": f"apiVersion: apps/v1\nkind: Deployment\n"
     f"metadata:\n  name: web-{i}\nspec:\n  replicas: {i}\n"}
    for i in range(40)
]


def test_seed_format_json_and_jsonl(tmp_path):
    train = tmp_path / "train_data.json"
    train.write_text(json.dumps(SEED_ITEMS[:30]), encoding="utf-8")
    test = tmp_path / "test_data.jsonl"
    test.write_text("".join(json.dumps(item) + "\n" for item in SEED_ITEMS[30:]), encoding="utf-8")
    dataset = load_k8s_intents(data_files={"train": str(train), "test": str(test)}, cache_dir=tmp_path / "c")
    assert len(dataset["test"]) == 10 and len(dataset["train"]) + len(dataset["validation"]) == 30
    assert set(dataset["test"]["intent_source"]) == {"seed"} and dataset["test"][0]["kinds"] == ["Deployment"]
    # retrieved mode: test intents get a pattern retrieved from the train files
    assert all(p.startswith("apiVersion: apps/v1\nkind: Deployment") for p in dataset["test"]["k8s_pattern"])
    # a single file gives all three splits
    only = load_k8s_intents(data_files=str(train), cache_dir=tmp_path / "c2")
    assert sum(map(len, only.values())) == 30 and set(only) >= {"train"}


def test_seed_format_bad_item(tmp_path):
    bad = tmp_path / "train_data.jsonl"
    bad.write_text(json.dumps(SEED_ITEMS[0]) + "\n" + json.dumps({"intent": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"train_data\.jsonl:2: expected an object with string fields"):
        load_k8s_intents(data_files=str(bad), cache_dir=tmp_path / "c")


def test_push_to_hub_uploads_parquet_card_and_licences(built):
    dataset, _ = built
    uploaded: dict[str, object] = {}

    def fake_upload_folder(*, folder_path, repo_id, repo_type, **kwargs):
        root = Path(folder_path)
        uploaded["files"] = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        uploaded["train"] = datasets.Dataset.from_parquet(str(root / "data/train-00000-of-00001.parquet"))
        uploaded["repo"] = (repo_id, repo_type)

    with mock.patch("k8s_data.hub.HfApi") as api_class:
        api_class.return_value.upload_folder.side_effect = fake_upload_folder
        written = push_to_hub(dataset, "someone/k8s-intents", token="hf_x")
    api_class.assert_called_once_with(token="hf_x")
    api_class.return_value.create_repo.assert_called_once_with(
        "someone/k8s-intents", repo_type="dataset", private=False, exist_ok=True
    )
    assert uploaded["repo"] == ("someone/k8s-intents", "dataset")
    assert uploaded["files"] == written
    for name in ("README.md", "NOTICE.md", "SOURCES.md", "LICENSES/kubernetes__website.txt",
                 "data/train-00000-of-00001.parquet", "data/validation-00000-of-00001.parquet",
                 "data/test-00000-of-00001.parquet"):
        assert name in written
    assert uploaded["train"]["id"] == dataset["train"]["id"]
