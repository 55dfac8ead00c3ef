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
import math
import time
from statistics import mean

from dual_codet5.inference import generate_yaml, load_for_inference
from k8s_data import BuildOptions, build_examples, load_retrieval
from k8s_data.banks import bank_from_rows
from k8s_scoring import score


def summarize(scores: list[dict]) -> dict[str, float]:
    """Mean CodeBLEU (x100), schema-valid %, quality and BP % (n/a left out) of a list of `score()` results."""

    def mean_of(key: str) -> float:
        values = [s[key] for s in scores if not math.isnan(s[key])]
        return float(mean(values)) if values else float("nan")

    return {
        "codebleu": 100 * mean_of("codebleu"),
        "schema_valid": 100 * mean_of("schema_valid"),
        "quality": mean_of("quality"),
        "bp": mean_of("bp"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model folders saved by train_sft.py")
    parser.add_argument("--max_examples", type=int, default=120, help="first N validation examples")
    parser.add_argument("--max_new_tokens", type=int, default=160, help="generation budget")
    parser.add_argument("--batch_size", type=int, default=16, help="generation batch size")
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    rows = build_examples(options=BuildOptions(pattern_mode="none"))
    validation = [r for r in rows if r["split"] == "validation"][: args.max_examples]
    results: dict[str, dict] = {}
    bank = bank_from_rows(rows)
    answers = [bank.manifest_for(r["intent"]) for r in validation]
    retrieval_scores = [score(a, r["yaml"]) for a, r in zip(answers, validation)]
    results["retrieval=bm25"] = summarize(retrieval_scores)
    for folder in args.models:
        start = time.perf_counter()
        model_bank, config = load_retrieval(folder)
        loaded = load_for_inference(folder, device="cpu")
        patterns = [model_bank.pattern_for(r["intent"], config) for r in validation]
        outputs = generate_yaml(
            loaded,
            [r["intent"] for r in validation],
            patterns,
            batch_size=args.batch_size,
            max_new_tokens=args.max_new_tokens,
            num_beams=1,
        )
        seconds = time.perf_counter() - start
        scores = [score(o[0], r["yaml"]) for o, r in zip(outputs, validation)]
        results[folder] = {**summarize(scores), "config": config.to_dict(), "seconds": seconds}
        # the model's answer where it is schema-valid, else the retrieved manifest (`--fallback retrieval`)
        fallback = [s if s["schema_valid"] == 1 else r for s, r in zip(scores, retrieval_scores)]
        used = sum(s["schema_valid"] == 1 for s in scores) / len(scores)
        results[folder + " +fallback"] = {**summarize(fallback), "config": f"model answer used for {100 * used:.0f} %"}
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
