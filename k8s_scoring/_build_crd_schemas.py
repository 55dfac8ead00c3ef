"""Build ``k8s_scoring/data/crd_schemas.json.gz`` from the CustomResourceDefinitions of a licensed corpus.

Run from the repository root::

    python -m k8s_scoring._build_crd_schemas                                  # the bundled corpus
    python -m k8s_scoring._build_crd_schemas --corpus ../shared/data/k8s_manifests/manifests.jsonl

The corpus is a JSON-lines file of records with ``yaml``, ``source`` (repository), ``path``, ``commit`` and
``license`` (the `k8s_data` corpus format). Every CRD document contributes one schema per version
(``group/version/Kind``); when several CRDs define the same key, the one with the largest schema wins (ties: the
first seen), and its provenance is recorded next to the schema. Only what the corpus holds is used: nothing is
downloaded.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
from pathlib import Path

import yaml

from .crd_schemas import CATALOG, crd_entries

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO / "k8s_data" / "corpus" / "manifests.jsonl"
OUTPUT = Path(__file__).resolve().parent / "data" / CATALOG


def build(corpus: Path) -> tuple[dict[str, dict], int]:
    """``(schemas by "group/version/Kind", number of CRD documents read)`` from a corpus file."""
    schemas: dict[str, dict] = {}
    crds = 0
    with corpus.open() as handle:
        for line in handle:
            record = json.loads(line)
            if record.get("kind") != "CustomResourceDefinition":
                continue
            try:
                document = yaml.load(record["yaml"], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            except yaml.YAMLError:
                continue
            crds += 1
            for key, schema in crd_entries(document):
                size = len(json.dumps(schema))
                if key in schemas and schemas[key]["size"] >= size:
                    continue
                schemas[key] = {
                    "schema": schema, "size": size, "source": record.get("source"), "path": record.get("path"),
                    "commit": record.get("commit"), "license": record.get("license"),
                }  # fmt: skip
    return schemas, crds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus JSON-lines file")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the gzipped catalog")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    schemas, crds = build(args.corpus)
    for entry in schemas.values():
        entry.pop("size")
    payload = {
        "corpus": args.corpus.name,
        "crd_documents": crds,
        "note": "openAPIV3Schema per group/version/kind from the corpus' own CRDs; provenance per schema",
        "schemas": dict(sorted(schemas.items())),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(gzip.compress(json.dumps(payload, sort_keys=True).encode(), mtime=0))
    logger.info("%d CRD documents -> %d schemas -> %s", crds, len(schemas), args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
