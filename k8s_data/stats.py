"""Dataset statistics: `python -m k8s_data.stats [--tokenizer DIR] [--pattern-mode retrieved]`.

Prints split sizes, kinds, intent sources, mean lengths in tokens (of a BPE tokenizer trained on the train split
unless `--tokenizer` names a saved one) and the pattern retrieval quality on validation: the rate at which the
retrieved pattern's kind set equals the target's, for plain and kind-aware BM25 (`python -m k8s_data.eval_retrieval`
adds CodeBLEU).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import replace
from statistics import mean
from typing import Any

from .build import BuildOptions, attach_patterns, build_examples
from .patterns import pattern_kinds
from .retrieval import PatternBank
from .retrieval_config import RetrievalConfig
from .splits import SPLIT_NAMES


def retrieval_quality(
    rows: list[dict[str, Any]], split: str = "validation", config: RetrievalConfig | None = None
) -> dict[str, float]:
    """Kind-set match rate of the skeletons retrieved for `split` (bank: train only; `config` default
    `RetrievalConfig()`), and the empty-pattern rate."""
    config = replace(config or RetrievalConfig(), pattern_format="skeleton")
    bank = PatternBank.from_records(r for r in rows if r["split"] == "train")
    evaluated = [r for r in rows if r["split"] == split]
    if not evaluated:
        return {"kind_set_match": 0.0, "empty": 0.0, "n": 0}
    patterns = [bank.pattern_for(r["intent"], config) for r in evaluated]
    match = sum(set(pattern_kinds(p)) == set(r["kinds"]) for p, r in zip(patterns, evaluated))
    empty = sum(not p for p in patterns)
    return {"kind_set_match": match / len(evaluated), "empty": empty / len(evaluated), "n": len(evaluated)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", help="saved tokenizer folder (default: train a 16k BPE on train)")
    parser.add_argument("--vocab-size", type=int, default=16000, help="vocabulary size of the trained tokenizer")
    parser.add_argument("--seed", type=int, default=0, help="intent phrasing seed")
    parser.add_argument("--top-kinds", type=int, default=15, help="how many kinds to list")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    rows = build_examples(options=BuildOptions(pattern_mode="none", seed=args.seed))
    build_seconds = time.perf_counter() - start
    by_split = {name: [r for r in rows if r["split"] == name] for name in SPLIT_NAMES}
    if args.tokenizer:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
        tokenizer_name = args.tokenizer
    else:
        from .tokenizer import train_tokenizer

        train = by_split["train"]
        tokenizer = train_tokenizer([r["yaml"] for r in train] + [r["intent"] for r in train], args.vocab_size)
        tokenizer_name = f"byte-level BPE, {len(tokenizer)} tokens, trained on the train split"

    tokenizer.model_max_length = 1 << 30  # lengths are measured here, not truncated: silence the length warning
    print(f"examples: {len(rows)} (built in {build_seconds:.1f} s)")
    print("split sizes: " + ", ".join(f"{name} {len(split_rows)}" for name, split_rows in by_split.items()))
    kinds = Counter(kind for r in rows for kind in r["kinds"])
    print(f"\nkinds (examples containing each, top {args.top_kinds} of {len(kinds)}):")
    for kind, count in kinds.most_common(args.top_kinds):
        print(f"  {kind:<28} {count}")
    print(f"  distinct kinds per example: mean {mean(len(r['kinds']) for r in rows):.2f}")
    print("\nintent sources:")
    for source, count in Counter(r["intent_source"] for r in rows).most_common():
        print(f"  {source:<12} {count:>5}  ({count / len(rows):.1%})")
    print("\nlicences:")
    for lic, count in Counter(r["license"] for r in rows).most_common():
        print(f"  {lic:<22} {count}")
    print(f"\nmean lengths in tokens ({tokenizer_name}):")
    print(f"  {'split':<11} {'intent':>7} {'yaml':>7} {'pattern':>8} {'yaml p95':>9}")
    oracle_rows = [dict(r) for r in rows]
    attach_patterns(oracle_rows, "oracle")
    for name in SPLIT_NAMES:
        split_rows = [r for r in oracle_rows if r["split"] == name]
        intent = [len(tokenizer(r["intent"]).input_ids) for r in split_rows]
        yaml = sorted(len(tokenizer(r["yaml"]).input_ids) for r in split_rows)
        pattern = [len(tokenizer(r["k8s_pattern"]).input_ids) for r in split_rows]
        p95 = yaml[int(0.95 * (len(yaml) - 1))]
        print(f"  {name:<11} {mean(intent):>7.1f} {mean(yaml):>7.1f} {mean(pattern):>8.1f} {p95:>9}")
    for label, config in (("plain BM25", RetrievalConfig(kind_aware=False)),
                          ("kind-aware BM25, the default", RetrievalConfig())):
        quality = retrieval_quality(rows, config=config)
        print(
            f"\npattern retrieval on validation ({label}, over {len(by_split['train'])} train intents): "
            f"kind set of retrieved pattern == target's: {quality['kind_set_match']:.1%} "
            f"(n={quality['n']}; empty retrievals {quality['empty']:.1%})"
        )


if __name__ == "__main__":
    main()
