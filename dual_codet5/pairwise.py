"""Paired tests between any two rows of one evaluation, from its per-example scores (no generation).

`evaluate_models.py` tests every row against its FIRST entry (the cpu preset puts retrieval there). The seed's
questions compare two models with each other (dual vs the single-encoder baseline, RL vs SFT); this reads
``per_example.jsonl`` and runs `dual_codet5.stats.compare_paired` for each pair, Holm-corrected over the metrics of
a pair::

    python -m dual_codet5.pairwise runs/cpu/eval/per_example.jsonl --pairs single:sft_dual sft_dual:rl_dual
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from dual_codet5.stats import PairedComparison, compare_paired, holm

__all__ = ["pairwise", "rows_by_model", "main"]

METRICS = ("codebleu", "bp", "quality", "schema_valid")
_PERCENT = ("codebleu", "schema_valid")  # stored as 0-1; bp and quality are already percentages


def rows_by_model(path: str | Path) -> dict[str, dict[str, dict]]:
    """The rows of a ``per_example.jsonl`` (`evaluate_models.py`) as ``{model: {example id: row}}``."""
    by_model: dict[str, dict[str, dict]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                by_model.setdefault(row["model"], {})[row["id"]] = row
    return by_model


def pairwise(
    path: str | Path, pairs: Sequence[tuple[str, str]], metrics: Sequence[str] = METRICS, n_resamples: int = 1999
) -> list[tuple[str, str, PairedComparison, float]]:
    """`(a, b, comparison of b against a, Holm-corrected p)` for every pair and metric.

    Raises:
        ValueError: when a model is not in the file or two models were scored on different examples.
    """
    by_model = rows_by_model(path)
    results = []
    for a, b in pairs:
        for name in (a, b):
            if name not in by_model:
                raise ValueError(f"{name!r} is not in {path}; it has {sorted(by_model)}")
        if set(by_model[a]) != set(by_model[b]):
            raise ValueError(f"{a!r} and {b!r} were scored on different examples")
        ids = sorted(by_model[a])
        comparisons = [
            compare_paired(
                [by_model[a][i][m] for i in ids], [by_model[b][i][m] for i in ids], metric=m,
                n_resamples=n_resamples, seed=0,
            )  # fmt: skip
            for m in metrics
        ]
        for comparison, p_holm in zip(comparisons, holm([c.primary_p for c in comparisons])):
            results.append((a, b, comparison, p_holm))
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dual_codet5.pairwise", description=__doc__.split("\n")[0])
    parser.add_argument("per_example", help="per_example.jsonl written by evaluate_models.py")
    parser.add_argument("--pairs", nargs="+", required=True, help="A:B pairs; B is tested against A")
    parser.add_argument("--n_resamples", type=int, default=1999, help="Bootstrap resamples of the CIs.")
    parser.add_argument("--output", help="Also write the table to this Markdown file.")
    args = parser.parse_args(argv)
    pairs = []
    for entry in args.pairs:
        a, sep, b = entry.partition(":")
        if not sep or not a or not b:
            raise SystemExit(f"--pairs entries are A:B, got {entry!r}")
        pairs.append((a, b))
    lines = ["| B - A | metric | n | mean Δ [95 % CI] | test | p | p (Holm) |", "|---|---|---:|---|---|---:|---:|"]
    for a, b, c, p_holm in pairwise(args.per_example, pairs, n_resamples=args.n_resamples):
        scale = 100 if c.metric in _PERCENT else 1
        lines.append(
            f"| {b} - {a} | {c.metric} | {c.n} | {scale * c.mean_diff:+.2f} [{scale * c.ci_low:+.2f}, "
            f"{scale * c.ci_high:+.2f}] | {c.primary_test} | {c.primary_p:.3g} | {p_holm:.3g} |"
        )
    table = "\n".join(lines) + "\n"
    print(table, end="")
    if args.output:
        header = (
            f"Paired tests from `{args.per_example}` (`python -m dual_codet5.pairwise`); Δ in points (CodeBLEU and "
            "schema-valid x100), Holm over the metrics of a pair.\n\n"
        )
        Path(args.output).write_text(header + table, encoding="utf-8")


if __name__ == "__main__":
    main()
