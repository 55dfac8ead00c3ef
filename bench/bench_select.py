"""Choosing between a model's answer and the (adapted) retrieved manifest, from one evaluation's per-example rows.

    python evaluate_models.py --split validation --max_examples 400 --output_dir runs/select_val \
        --models retrieval_adapt=bm25+adapt rl_dual=runs/cpu/rl_dual/final --lookup_bonus 10 --no_fallback_rows
    python bench/bench_select.py runs/select_val/per_example.jsonl --model rl_dual --retrieval retrieval_adapt

Every policy picks, per intent, one of the two rows already scored (`per_example.jsonl` holds the scores), so the
table costs no generation. The policies read only the intent and the two answers (never the reference):

- `model`, `retrieval`: one side always;
- `fallback`: the model unless its answer is not schema-valid (`--fallback retrieval`);
- `coverage`: the model when its answer is schema-valid and states more of the intent's literals than the retrieved
  manifest (`k8s_data.coverage.intent_coverage`), else the retrieved manifest;
- `coverage>=`: the same with ties to the model.

Choose a policy on the validation split; report it on test.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from statistics import mean

from dual_codet5.pairwise import rows_by_model
from k8s_data.coverage import intent_coverage

METRICS = ("codebleu", "quality", "bp", "schema_valid")


def _cov(row: dict) -> float:
    value = intent_coverage(row["intent"], row["prediction"])
    return -1.0 if value is None else value


# policy name -> (model row, retrieval row) -> True to take the model's answer
POLICIES: dict[str, Callable[[dict, dict], bool]] = {
    "model": lambda m, r: True,
    "retrieval": lambda m, r: False,
    "fallback": lambda m, r: bool(m["chosen_schema_valid"]),
    "coverage": lambda m, r: bool(m["chosen_schema_valid"]) and _cov(m) > _cov(r),
    "coverage>=": lambda m, r: bool(m["chosen_schema_valid"]) and _cov(m) >= _cov(r),
}


def _mean(values: list[float]) -> float:
    present = [v for v in values if not math.isnan(v)]
    return mean(present) if present else math.nan


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("per_example", type=Path, help="per_example.jsonl of evaluate_models.py")
    parser.add_argument("--model", required=True, help="the model's row name")
    parser.add_argument("--retrieval", default="retrieval_adapt", help="the retrieval row name")
    args = parser.parse_args(argv)
    rows = rows_by_model(args.per_example)
    for name in (args.model, args.retrieval):
        if name not in rows:
            raise SystemExit(f"no rows named {name!r} in {args.per_example} (has: {', '.join(sorted(rows))})")
    ids = [i for i in rows[args.model] if i in rows[args.retrieval]]
    print(f"{args.per_example}: {len(ids)} intents, model {args.model!r}, retrieval {args.retrieval!r}")
    print("| policy | CodeBLEU | quality | BP % | schema-valid % | model's answer taken % |")
    print("|---|---|---|---|---|---|")
    for name, take_model in POLICIES.items():
        chosen, taken = [], 0
        for i in ids:
            m, r = rows[args.model][i], rows[args.retrieval][i]
            use = take_model(m, r)
            taken += use
            chosen.append(m if use else r)
        cells = [_mean([float(c[k]) for c in chosen]) * (100 if k in ("codebleu", "schema_valid") else 1)
                 for k in METRICS]  # fmt: skip
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in cells) + f" | {100 * taken / len(ids):.0f} |")


if __name__ == "__main__":
    main()
