"""CPU-time throughput of the judge's stages on the corpus, for comparing two checkouts on a shared machine.

Wall-clock benchmarks (`bench_scoring.py`) swing with other load; process CPU time swings less. Parse, checks
(`analyze_parsed`) and validity (`validate_parsed`) are timed apart, each the best of 5 passes over the first 3,000
corpus manifests after a warm-up. Compare checkouts by running them alternately (A B A B) in one session:

    python bench/bench_judge_cpu.py /path/to/old/checkout ; python bench/bench_judge_cpu.py .
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

TREE = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent).resolve()
_SHARED = TREE.parent / "shared" / "data" / "k8s_manifests" / "manifests.jsonl"
CORPUS = Path(sys.argv[2]) if len(sys.argv) > 2 else _SHARED
sys.path.insert(0, str(TREE))

from k8s_scoring.analysis import analyze_parsed  # noqa: E402
from k8s_scoring.documents import parse  # noqa: E402
from k8s_scoring.validity import validate_parsed  # noqa: E402


def best_rate(fn, items, passes: int = 5) -> float:
    best = float("inf")
    for _ in range(passes):
        start = time.process_time()
        for item in items:
            fn(item)
        best = min(best, time.process_time() - start)
    return len(items) / best


def main() -> None:
    with CORPUS.open() as handle:
        texts = [json.loads(line)["yaml"] for _, line in zip(range(3000), handle)]
    parsed = [parse(text) for text in texts]
    for item in parsed:  # warm-up: schema validators are compiled per kind on first use
        validate_parsed(item)
        analyze_parsed(item)
    print(f"{TREE}: CPU-time throughput, best of 5, {len(texts)} manifests: parse {best_rate(parse, texts):,.0f}/s | "
          f"checks (analyze_parsed) {best_rate(analyze_parsed, parsed):,.0f}/s | validate_parsed "
          f"{best_rate(validate_parsed, parsed):,.0f}/s")  # fmt: skip


if __name__ == "__main__":
    main()
