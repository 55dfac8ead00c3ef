"""Retrieval with and without adaptation (`k8s_data.adapt`) on the VALIDATION split: a table on stdout.

    python bench/bench_adapt.py --max_examples 300

Retrieval answers with the train manifest of the nearest train intent (kind-aware BM25, `RetrievalConfig()`);
`retrieval + adapt` answers with that manifest edited by the differences between its train intent and the request.
Scored by `k8s_scoring.score` against the reference; no model is involved.
"""

from __future__ import annotations

import argparse
import logging

from dual_codet5.validation import retrieval_scores, summarize, validation_rows
from k8s_data import RetrievalConfig, default_pattern_bank, retrieve_manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max_examples", type=int, default=300, help="first N validation examples (all: -1)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rows = validation_rows(None if args.max_examples < 0 else args.max_examples)
    plain, adapted = retrieval_scores(rows), retrieval_scores(rows, adapt=True)
    bank, adapt = default_pattern_bank(), RetrievalConfig(adapt_exemplar=True)
    changed = sum(retrieve_manifest(r["intent"], bank) != retrieve_manifest(r["intent"], bank, adapt) for r in rows)
    print(f"validation split, first {len(rows)} examples; adaptation changed {changed} retrieved manifests")
    print("| system | CodeBLEU | schema-valid % | quality | BP % |")
    print("|---|---|---|---|---|")
    for name, scores in (("retrieval", plain), ("retrieval + adapt", adapted)):
        s = summarize(scores)
        print(f"| {name} | {s['codebleu']:.1f} | {s['schema_valid']:.1f} | {s['quality']:.1f} | {s['bp']:.1f} |")


if __name__ == "__main__":
    main()
