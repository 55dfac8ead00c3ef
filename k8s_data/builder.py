"""The `datasets` builder and the one-call loader.

datasets >= 4 no longer runs loading scripts, so the builder is an ordinary class instantiated directly:

```python
from k8s_data import K8sIntents, load_k8s_intents

ds = load_k8s_intents()                                  # DatasetDict: train / validation / test
ds = load_k8s_intents(pattern_mode="oracle")             # UPPER BOUND only: the pattern comes from the target
ds = load_k8s_intents(pattern_format="exemplar", exemplar_k=2)   # retrieve and edit: train manifests in full
ds = load_k8s_intents(data_files={"train": "train_data.json", "test": "test_data.json"})  # the seed's format
```

The builder cache ignores file contents, so every build passes `hash=` = SHA-256 of the corpus bytes (or of the
data files) and of the build options: edited data or options never serve a stale cache.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets

from .build import BuildOptions, build_examples, build_seed_rows
from .corpus import CORPUS_FILE, file_digest
from .examples import ExampleFilter
from .retrieval_config import RetrievalConfig
from .splits import SPLIT_NAMES, SplitConfig

logger = logging.getLogger(__name__)

FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "intent": datasets.Value("string"),
        "intent_source": datasets.Value("string"),
        "k8s_pattern": datasets.Value("string"),
        "yaml": datasets.Value("string"),
        "kinds": datasets.Sequence(datasets.Value("string")),
        "source": datasets.Value("string"),
        "license": datasets.Value("string"),
    }
)
_DESCRIPTION = (
    "Natural-language intents paired with real Kubernetes manifests from 120 licensed public repositories, with a "
    "K8s pattern (manifest skeleton) retrieved from the intent. See k8s_data/corpus/README.md."
)


@dataclass
class K8sIntentsConfig(datasets.BuilderConfig):
    """Builder config: `corpus` (the bundled or a given manifests.jsonl) or `seed_format` (intent/yaml JSON)."""

    corpus_file: str | None = field(default=None, metadata={"help": "manifests.jsonl to read (default: bundled)."})
    options: BuildOptions = field(default_factory=BuildOptions, metadata={"help": "Build options."})


class K8sIntents(datasets.GeneratorBasedBuilder):
    """Builds train / validation / test from the corpus (config `corpus`) or from seed-format files
    (config `seed_format`, needs `data_files`)."""

    BUILDER_CONFIG_CLASS = K8sIntentsConfig
    BUILDER_CONFIGS = [
        K8sIntentsConfig(name="corpus", description="The bundled manifest corpus."),
        K8sIntentsConfig(name="seed_format", description="[{'intent': ..., 'yaml': ...}] JSON or JSONL files."),
    ]
    DEFAULT_CONFIG_NAME = "corpus"

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description=_DESCRIPTION, features=FEATURES, license="Apache-2.0 AND MIT AND "
                                    "MIT-0 AND CC-BY-4.0 (per example: see the `license` column)")

    def _rows(self) -> list[dict[str, Any]]:
        config: K8sIntentsConfig = self.config
        if config.name == "seed_format":
            if not config.data_files:
                raise ValueError("the seed_format config needs data_files, e.g. {'train': 'train_data.json'}")
            return build_seed_rows({split: list(files) for split, files in config.data_files.items()}, config.options)
        return build_examples(config.corpus_file, config.options)

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        rows = self._rows()
        by_split = {name: [r for r in rows if r["split"] == name] for name in SPLIT_NAMES}
        return [
            datasets.SplitGenerator(name=name, gen_kwargs={"rows": split_rows})
            for name, split_rows in by_split.items()
            if split_rows
        ]

    def _generate_examples(self, rows: list[dict[str, Any]]):
        for row in rows:
            yield row["id"], {key: row[key] for key in FEATURES}


def content_hash(options: BuildOptions, files: list[str | Path]) -> str:
    """SHA-256 over the bytes of the input files and the build options (the builder's cache key)."""
    digest = hashlib.sha256(options.fingerprint().encode())
    for file in files:
        digest.update(file_digest(file).encode())
    return digest.hexdigest()[:32]


# Keyword arguments of `load_k8s_intents` / `make_builder` that are `RetrievalConfig` fields.
RETRIEVAL_ARGUMENTS: tuple[str, ...] = (
    "retrieval", "pattern_format", "exemplar_k", "kind_aware", "train_sample_top", "exemplar_mask_prob",
)


def make_builder(
    pattern_mode: str = "retrieved",
    data_files: str | list[str] | dict[str, str | list[str]] | None = None,
    seed: int = 0,
    *,
    corpus_file: str | Path | None = None,
    cache_dir: str | Path | None = None,
    description_mode: str = "combine",
    filter: ExampleFilter | None = None,
    split: SplitConfig | None = None,
    retrieval: RetrievalConfig | None = None,
    pattern_format: str | None = None,
    exemplar_k: int | None = None,
    kind_aware: bool | None = None,
    train_sample_top: int | None = None,
    exemplar_mask_prob: float | None = None,
) -> K8sIntents:
    """A `K8sIntents` builder for the given options, keyed by content hash (see `load_k8s_intents`)."""
    fields_given = {
        name: value for name, value in (
            ("pattern_format", pattern_format), ("exemplar_k", exemplar_k), ("kind_aware", kind_aware),
            ("train_sample_top", train_sample_top), ("exemplar_mask_prob", exemplar_mask_prob),
        ) if value is not None
    }
    retrieval = RetrievalConfig(**{**(retrieval or RetrievalConfig()).to_dict(), **fields_given})
    options = BuildOptions(
        pattern_mode=pattern_mode, seed=seed, description_mode=description_mode,
        filter=filter or ExampleFilter(), split=split or SplitConfig(), retrieval=retrieval,
    )
    if data_files is not None:
        if isinstance(data_files, (str, Path)):
            data_files = {"train": [str(data_files)]}
        elif isinstance(data_files, list):
            data_files = {"train": [str(f) for f in data_files]}
        else:
            data_files = {k: [str(v)] if isinstance(v, (str, Path)) else [str(f) for f in v]
                          for k, v in data_files.items()}
        files = [Path(f).resolve() for fs in data_files.values() for f in fs]
        return K8sIntents(
            cache_dir=str(cache_dir) if cache_dir else None, config_name="seed_format",
            data_files={k: [str(Path(f).resolve()) for f in v] for k, v in data_files.items()},
            hash=content_hash(options, files), options=options,
        )
    corpus = Path(corpus_file) if corpus_file else CORPUS_FILE
    return K8sIntents(
        cache_dir=str(cache_dir) if cache_dir else None, config_name="corpus", corpus_file=str(corpus),
        hash=content_hash(options, [corpus]), options=options,
    )


def load_k8s_intents(
    pattern_mode: str = "retrieved",
    data_files: str | list[str] | dict[str, str | list[str]] | None = None,
    seed: int = 0,
    pattern_format: str | None = None,
    exemplar_k: int | None = None,
    **kwargs: Any,
) -> datasets.DatasetDict:
    """Build (or reuse from cache) and return the dataset.

    Args:
        pattern_mode: `retrieved` (default; BM25 over train intents, the example's own file excluded at train
            time), `oracle` (pattern of the target: an UPPER BOUND, it leaks the answer) or `none`.
        pattern_format: `skeleton` or `exemplar` (see `RetrievalConfig`; default `RetrievalConfig().pattern_format`).
        exemplar_k: How many retrieved train manifests an exemplar pattern holds.
        data_files: Seed-format files (`[{"intent", "yaml"}]` JSON or JSONL): a path, a list (all train) or a
            `{split: path(s)}` dict. None: the bundled corpus.
        seed: Seed of the intent phrasing.
        **kwargs: `corpus_file`, `cache_dir`, `description_mode`, `filter` (`ExampleFilter`), `split`
            (`SplitConfig`), `retrieval` (`RetrievalConfig`) and its fields `kind_aware`, `train_sample_top`,
            `exemplar_mask_prob` (override `retrieval`).

    Returns:
        `DatasetDict` with `train`, `validation`, `test` and features `id`, `intent`, `intent_source`,
        `k8s_pattern`, `yaml`, `kinds`, `source`, `license`.
    """
    builder = make_builder(pattern_mode, data_files, seed, pattern_format=pattern_format, exemplar_k=exemplar_k,
                           **kwargs)
    builder.download_and_prepare()
    return builder.as_dataset()
