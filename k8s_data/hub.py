"""Publishing the dataset: Parquet shards + dataset card + licences, uploaded with `huggingface_hub`.

The folder written by `write_hub_folder` is what lands in the repository:

```
README.md                                  the dataset card (k8s_data/corpus/README.md, with a `configs:` header)
NOTICE.md  SOURCES.md  LICENSES/*.txt       attribution the licences ask for (CC-BY-4.0: kubernetes/website, ...)
data/train-00000-of-00001.parquet          one shard per split (the layout `datasets.push_to_hub` writes)
data/validation-00000-of-00001.parquet
data/test-00000-of-00001.parquet
```
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import datasets
from huggingface_hub import HfApi

from .corpus import CORPUS_DIR

logger = logging.getLogger(__name__)

ATTRIBUTION_FILES: tuple[str, ...] = ("NOTICE.md", "SOURCES.md")


def write_hub_folder(dataset: datasets.DatasetDict, folder: str | Path) -> list[str]:
    """Write Parquet shards, the card and the licence files into `folder`; returns the relative paths written."""
    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    for split, ds in dataset.items():
        relative = f"data/{split}-00000-of-00001.parquet"
        ds.to_parquet(str(folder / relative))
        written.append(relative)
    shutil.copyfile(CORPUS_DIR / "README.md", folder / "README.md")
    written.append("README.md")
    for name in ATTRIBUTION_FILES:
        shutil.copyfile(CORPUS_DIR / name, folder / name)
        written.append(name)
    shutil.copytree(CORPUS_DIR / "LICENSES", folder / "LICENSES", dirs_exist_ok=True)
    written.extend(f"LICENSES/{p.name}" for p in sorted((CORPUS_DIR / "LICENSES").iterdir()))
    return sorted(written)


def push_to_hub(
    dataset: datasets.DatasetDict, repo_id: str, *, token: str | None = None, private: bool = False,
    commit_message: str = "Upload k8s intents dataset",
) -> list[str]:
    """Create (if needed) the dataset repository `repo_id` and upload Parquet shards, card and licences.

    Returns:
        The repository paths uploaded.
    """
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        written = write_hub_folder(dataset, tmp)
        api.upload_folder(folder_path=tmp, repo_id=repo_id, repo_type="dataset", commit_message=commit_message)
    logger.info("uploaded %d files to datasets/%s", len(written), repo_id)
    return written
