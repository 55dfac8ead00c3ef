"""Retrieval alone as a system, measured: `python -m k8s_data.eval_retrieval --split validation`.

For every example of the split, the retrieved train manifest (the bank holds the train split only) is compared
with the target: kind-set accuracy (the retrieved manifest's set of kinds equals the target's), CodeBLEU
(`k8s_scoring.codebleu_yaml`, mean x 100) and schema validity. Rows: plain BM25 (the pre-kind-aware retrieval),
kind-aware ranking without and with the penalty on unrequested kinds. Also prints how well `detect_kinds` reads
the requested kinds from intents, and how often a retrieved manifest contains the whole target (a leak check).
"""

from __future__ import annotations

import argparse
import time
from statistics import mean
from typing import Any

from .banks import bank_from_rows
from .build import BuildOptions, build_examples
from .retrieval import PatternBank, document_keys
from .splits import SPLIT_NAMES
from .yaml_io import load_mappings


def manifest_kinds(yaml_text: str) -> set[str]:
    return {str(doc.get("kind")) for doc in load_mappings(yaml_text)}


def retrieved_manifest(bank: PatternBank, intent: str, system: str) -> str:
    """The manifest `system` (bm25 | kind_aware_cover | kind_aware) retrieves for `intent`."""
    if system == "bm25":
        return bank.manifest_for(intent, kind_aware=False)
    if system == "kind_aware":
        return bank.manifest_for(intent, kind_aware=True)
    if system == "kind_aware+compose":
        return bank.manifest_for(intent, kind_aware=True, compose=True)
    weight, extra = (float(x) for x in system.split(":")[1:3])  # "kind:<weight>:<extra weight>" (sweep)
    ranked = bank.ranked(intent, kind_aware=True, limit=1, kind_weight=weight, extra_kind_weight=extra)
    return bank.entries[ranked[0]].yaml if ranked else ""


SYSTEMS: tuple[str, ...] = ("bm25", "kind_aware", "kind_aware+compose")
SWEEP: tuple[str, ...] = tuple(f"kind:{w:g}:{e:g}" for w in (2, 4, 8, 16, 1e6) for e in (0, 0.5, 1, 2))


def evaluate(rows: list[dict[str, Any]], bank: PatternBank, systems: tuple[str, ...] = SYSTEMS,
             codebleu: bool = True) -> dict[str, dict[str, float]]:
    """Per system: `kind_set_accuracy`, `codebleu` (x100), `schema_valid` (%), `empty` (%), `contains_target`."""
    from k8s_scoring import codebleu_yaml, validate

    results: dict[str, dict[str, float]] = {}
    for system in systems:
        kinds_ok, bleu, valid, empty, leaks = [], [], [], [], []
        for row in rows:
            text = retrieved_manifest(bank, row["intent"], system)
            kinds_ok.append(manifest_kinds(text) == set(row["kinds"]))
            empty.append(not text)
            target_keys = document_keys(row["yaml"])
            leaks.append(bool(text) and bool(target_keys) and target_keys <= document_keys(text))
            if codebleu:
                bleu.append(codebleu_yaml(text, row["yaml"])["codebleu"] if text else 0.0)
                valid.append(bool(text) and validate(text).schema_valid)
        results[system] = {
            "n": len(rows),
            "kind_set_accuracy": 100 * mean(kinds_ok),
            "codebleu": 100 * mean(bleu) if bleu else float("nan"),
            "schema_valid": 100 * mean(valid) if valid else float("nan"),
            "empty": 100 * mean(empty),
            "contains_target": 100 * mean(leaks),
        }
    return results


def detection_quality(rows: list[dict[str, Any]], bank: PatternBank) -> dict[str, float]:
    """How the detected kinds relate to the target's: exact, subset (nothing wrong named), none detected."""
    exact = subset = none = 0
    for row in rows:
        found, target = set(bank.detect(row["intent"])), set(row["kinds"])
        exact += found == target
        subset += bool(found) and found <= target
        none += not found
    n = max(len(rows), 1)
    return {"exact": 100 * exact / n, "subset": 100 * subset / n, "none": 100 * none / n}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="validation", choices=[s for s in SPLIT_NAMES if s != "train"])
    parser.add_argument("--seed", type=int, default=0, help="intent phrasing seed")
    parser.add_argument("--limit", type=int, default=None, help="evaluate the first N examples only")
    parser.add_argument("--no-codebleu", action="store_true", help="kind-set accuracy only (fast)")
    parser.add_argument("--sweep", action="store_true", help="also rank with other kind weights (kind:<w>:<extra>)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    rows = build_examples(options=BuildOptions(pattern_mode="none", seed=args.seed))
    bank = bank_from_rows(rows)
    evaluated = [r for r in rows if r["split"] == args.split][: args.limit]
    print(f"bank: {len(bank)} train examples; {args.split}: {len(evaluated)} examples "
          f"(built in {time.perf_counter() - start:.1f} s)")
    detection = detection_quality(evaluated, bank)
    print(f"kind detection on {args.split} intents: detected == target kinds {detection['exact']:.1f} %, "
          f"detected a non-empty subset {detection['subset']:.1f} %, nothing detected {detection['none']:.1f} %")
    systems = SYSTEMS + SWEEP if args.sweep else SYSTEMS
    results = evaluate(evaluated, bank, systems, codebleu=not args.no_codebleu)
    print(f"\n{'system':<18} {'kind-set acc %':>14} {'CodeBLEU':>9} {'schema-valid %':>15} {'empty %':>8} "
          f"{'has target %':>13}")
    for system, r in results.items():
        print(f"{system:<18} {r['kind_set_accuracy']:>14.1f} {r['codebleu']:>9.1f} {r['schema_valid']:>15.1f} "
              f"{r['empty']:>8.1f} {r['contains_target']:>13.1f}")


if __name__ == "__main__":
    main()
