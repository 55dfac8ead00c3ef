"""Skeleton vs exemplar patterns: score trained models on the VALIDATION split, each with the patterns it was
trained with (`k8s_data.load_retrieval(folder)`), next to retrieval alone.

    python bench/bench_pattern_formats.py runs/fmt_skeleton/final runs/fmt_exemplar1/final --max_examples 120

Greedy decoding; prints mean CodeBLEU (x100) and schema-valid % per model (and for `retrieval=bm25`, the retrieved
manifest as the answer). Used to choose the default `RetrievalConfig` (docs/retrieval.md).
"""

from __future__ import annotations

import argparse
import json
import logging

from dual_codet5.validation import model_scores, retrieval_scores, summarize, validation_rows, with_fallback
from k8s_data import load_retrieval


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model folders saved by train_sft.py")
    parser.add_argument("--max_examples", type=int, default=120, help="first N validation examples")
    parser.add_argument("--max_new_tokens", type=int, default=160, help="generation budget")
    parser.add_argument("--batch_size", type=int, default=16, help="generation batch size")
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    parser.add_argument(
        "--lookup_bonus", type=float, nargs="+", default=[0.0], help="exemplar lookup bonuses to try (0 = off)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    validation = validation_rows(args.max_examples)
    retrieval = {adapt: retrieval_scores(validation, adapt=adapt) for adapt in (False, True)}
    results: dict[str, dict] = {
        "retrieval=bm25": summarize(retrieval[False]),
        "retrieval_adapt=bm25+adapt": summarize(retrieval[True]),
    }
    for folder, bonus in ((f, b) for f in args.models for b in args.lookup_bonus):
        scores, seconds = model_scores(
            folder, validation, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size, lookup_bonus=bonus
        )
        name = folder + (f" lookup {bonus:g}" if bonus else "")
        config = load_retrieval(folder)[1]
        results[name] = {**summarize(scores), "config": config.to_dict(), "seconds": seconds}
        used = sum(s["schema_valid"] == 1 for s in scores) / len(scores)
        results[name + " +fallback"] = {  # the model's own fallback: adapted when its exemplars are
            **summarize(with_fallback(scores, retrieval[config.adapt_exemplar])),
            "config": f"model answer used for {100 * used:.0f} %",
        }
    print(f"validation, first {len(validation)} examples, greedy, max_new_tokens {args.max_new_tokens}")
    print(f"{'system':<48} {'CodeBLEU':>9} {'schema-valid %':>15} {'quality':>8} {'BP %':>6}  notes")
    for name, r in results.items():
        print(
            f"{name:<48} {r['codebleu']:>9.1f} {r['schema_valid']:>15.1f} {r['quality']:>8.1f} {r['bp']:>6.1f}  "
            f"{r.get('config', '')}"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
