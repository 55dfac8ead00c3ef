"""What `k8s_scoring.repair` adds on the bundled corpus' workload documents (human-written, not model outputs).

    python bench/bench_repair.py [--corpus k8s_data/corpus/manifests.jsonl]

Prints one Markdown table: mean BP% and security before/after, documents changed, schema validity kept,
idempotence, and the time per document.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from k8s_scoring import RepairConfig, analyze, repair, validate  # noqa: E402

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"}
DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "k8s_data" / "corpus" / "manifests.jsonl"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="manifests.jsonl to read")
    parser.add_argument("--level", choices=("safe", "strict"), default="safe", help="repair level (RepairConfig)")
    args = parser.parse_args(argv)
    with args.corpus.open(encoding="utf-8") as handle:
        texts = [row["yaml"] for row in map(json.loads, handle) if row["kind"] in WORKLOAD_KINDS]

    config = RepairConfig(level=args.level)
    docs = changed = idempotent = schema_before = schema_kept = 0
    bp, security, seconds = [], [], []
    for text in texts:
        before = analyze(text)
        if not before.valid:
            continue
        start = time.perf_counter()
        fixed, changes = repair(text, config)
        seconds.append(time.perf_counter() - start)
        after = analyze(fixed)
        docs += 1
        changed += bool(changes)
        idempotent += repair(fixed, config) == (fixed, [])
        if validate(text).schema_valid:
            schema_before += 1
            schema_kept += validate(fixed).schema_valid
        bp.append((before.bp, after.bp))
        security.append((before.security, after.security))

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    p95 = sorted(seconds)[int(0.95 * len(seconds))]
    print(f"{docs} workload documents of {args.corpus.name}, repair level {args.level}\n")
    print("| | before | after `repair` |\n|---|---|---|")
    print(f"| mean BP% | {mean([b for b, _ in bp]):.1f} | {mean([a for _, a in bp]):.1f} |")
    print(f"| mean security score | {mean([b for b, _ in security]):.3f} | {mean([a for _, a in security]):.3f} |")
    print(f"| documents changed | | {changed:,} / {docs:,} |")
    print(f"| schema-valid documents still schema-valid | | {schema_kept:,} / {schema_before:,} |")
    print(f"| idempotent (`repair(out) == (out, [])`) | | {idempotent:,} / {docs:,} |")
    print(f"| time per document | | median {statistics.median(seconds) * 1e3:.0f} ms, p95 {p95 * 1e3:.0f} ms |")


if __name__ == "__main__":
    main()
