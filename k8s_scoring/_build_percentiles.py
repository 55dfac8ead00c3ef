"""Build ``k8s_scoring/data/complexity_percentiles.json``: per-kind percentiles of object size in the corpus.

The complexity score without a reference (see `k8s_scoring.complexity`) compares each object's content lines and
nesting depth with the 90th percentile of its kind in the bundled corpus. Run from the repository root::

    python -m k8s_scoring._build_percentiles                          # defaults below
    python -m k8s_scoring._build_percentiles --corpus path/to/manifests.jsonl --percentile 90 --min-count 20

Each corpus record's ``yaml`` is one document; it is parsed with the same `documents.parse` the score uses, every
object is counted once per duplicate group (records carry ``dup_count`` but are already de-duplicated), and kinds with
fewer than ``--min-count`` objects are left out (they use the ``all`` row).
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

from k8s_scoring.documents import parse

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "k8s_data" / "corpus" / "manifests.jsonl"
OUTPUT = Path(__file__).resolve().parent / "data" / "complexity_percentiles.json"


def percentile(values: list[int], q: float) -> float:
    """Linear-interpolation percentile (numpy's default method), ``q`` in [0, 100]."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def build(corpus: Path, q: float, min_count: int) -> dict:
    sizes: dict[str, list[tuple[int, int]]] = defaultdict(list)
    with corpus.open() as handle:
        for line in handle:
            parsed = parse(json.loads(line)["yaml"])
            for obj in parsed.objects:
                sizes[obj.kind].append((obj.lines, obj.depth))
    every = [size for rows in sizes.values() for size in rows]

    def row(rows: list[tuple[int, int]]) -> dict:
        return {
            "n": len(rows),
            "lines": round(percentile([lines for lines, _ in rows], q), 2),
            "depth": round(percentile([depth for _, depth in rows], q), 2),
        }

    return {
        "description": f"p{q:g} of content lines and nesting depth per object, by kind (k8s_scoring.complexity)",
        "corpus": "k8s_data/corpus/manifests.jsonl",
        "percentile": q,
        "min_count": min_count,
        "all": row(every),
        "kinds": {kind: row(rows) for kind, rows in sorted(sizes.items()) if len(rows) >= min_count},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="manifests.jsonl of the corpus")
    parser.add_argument("--percentile", type=float, default=90.0, help="percentile used as the size limit")
    parser.add_argument("--min-count", type=int, default=20, help="fewest objects for a kind to get its own row")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the JSON")
    args = parser.parse_args(argv)
    table = build(args.corpus, args.percentile, args.min_count)
    args.output.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {args.output} ({len(table['kinds'])} kinds, {table['all']['n']} objects)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
