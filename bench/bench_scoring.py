"""Single-process throughput of the scoring library over the manifest corpus; prints a Markdown table.

Rows:
  * `analyze`, `validate`, `analyze + validate` (manifests/s): every corpus manifest, after one untimed warm-up pass
    (schema validators are compiled per kind on first use, as a warm linter process would have them).
  * `codebleu_yaml` (pairs/s): each manifest as the reference of two predictions, itself and a different manifest of
    the same kind (kinds with one manifest give only the self pair). The reference cache starts empty, so each
    reference is analysed once and served from the cache for its second prediction, as in RL with k = 2 samples.
  * `codebleu_yaml, cold` (pairs/s): the same pairs with the reference cache cleared before every pair (both sides
    analysed every time).
Each row is the median of `--repeat` timed passes.

Run from the repository root:
    python bench/bench_scoring.py                      # bundled corpus, else ../shared/data/k8s_manifests
    python bench/bench_scoring.py --corpus PATH --limit 2000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from k8s_scoring import analyze, validate  # noqa: E402
from k8s_scoring.codebleu import clear_cache, codebleu_yaml  # noqa: E402

BUNDLED = REPO / "k8s_data" / "corpus" / "manifests.jsonl"
SHARED = REPO.parent / "shared" / "data" / "k8s_manifests" / "manifests.jsonl"
TARGET_MANIFESTS = 5_000
TARGET_PAIRS = 1_000


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_corpus(path: Path, limit: int | None) -> list[dict]:
    with path.open() as f:
        records = [json.loads(line) for line in f]
    return records[:limit] if limit else records


def make_pairs(records: list[dict], seed: int) -> list[tuple[str, str]]:
    """(prediction, reference) pairs grouped by reference: the reference itself, then a same-kind other manifest."""
    rng = random.Random(seed)
    by_kind: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        by_kind.setdefault(record.get("kind", ""), []).append(i)
    pairs = []
    for record in records:
        reference = record["yaml"]
        pairs.append((reference, reference))
        others = [j for j in by_kind[record.get("kind", "")] if records[j]["yaml"] != reference]
        if others:
            pairs.append((records[rng.choice(others)]["yaml"], reference))
    return pairs


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` calls of `fn`, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--corpus", type=Path, default=BUNDLED if BUNDLED.exists() else SHARED, help="manifests.jsonl to score"
    )
    parser.add_argument("--limit", type=int, default=None, help="use only the first N manifests")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per row (the median is reported)")
    parser.add_argument("--seed", type=int, default=0, help="seed for choosing the same-kind partner manifests")
    args = parser.parse_args()

    records = load_corpus(args.corpus, args.limit)
    texts = [record["yaml"] for record in records]
    pairs = make_pairs(records, args.seed)

    for text in texts:  # warm-up: compile the schema validators of every kind once
        analyze(text)
        validate(text)

    def run_analyze() -> None:
        for text in texts:
            analyze(text)

    def run_validate() -> None:
        for text in texts:
            validate(text)

    def run_both() -> None:
        for text in texts:
            analyze(text)
            validate(text)

    def run_codebleu_warm() -> None:
        clear_cache()
        for prediction, reference in pairs:
            codebleu_yaml(prediction, reference)

    def run_codebleu_cold() -> None:
        for prediction, reference in pairs:
            clear_cache()
            codebleu_yaml(prediction, reference)

    rows = [
        ("`analyze`", len(texts), "manifests", timed(run_analyze, args.repeat), None),
        ("`validate`", len(texts), "manifests", timed(run_validate, args.repeat), None),
        ("`analyze` + `validate`", len(texts), "manifests", timed(run_both, args.repeat), TARGET_MANIFESTS),
        ("`codebleu_yaml` (reference cached, k = 2)", len(pairs), "pairs", timed(run_codebleu_warm, args.repeat),
         TARGET_PAIRS),
        ("`codebleu_yaml`, cold (no cache)", len(pairs), "pairs", timed(run_codebleu_cold, args.repeat), None),
    ]  # fmt: skip
    clear_cache()
    cross = [codebleu_yaml(p, r)["codebleu"] for p, r in pairs if p != r]

    print(f"CPU: {cpu_model()}; {os.cpu_count()} logical cores, 1 process used; Python {platform.python_version()}")
    print(f"Corpus: {args.corpus} ({len(texts)} manifests, {len(pairs)} pairs); median of {args.repeat} passes")
    print()
    print("| what | items | seconds | throughput | target | met |")
    print("|---|---:|---:|---:|---:|:---:|")
    for name, count, unit, seconds, target in rows:
        rate = count / seconds
        target_text = f">= {target:,} {unit}/s" if target else ""
        met = ("yes" if rate >= target else "no") if target else ""
        print(f"| {name} | {count:,} {unit} | {seconds:.2f} | {rate:,.0f} {unit}/s | {target_text} | {met} |")
    print()
    print(
        f"Mean CodeBLEU-YAML of a manifest against a different manifest of the same kind: "
        f"{statistics.mean(cross):.3f} (n = {len(cross)})"
    )


if __name__ == "__main__":
    main()
