"""Reporting for `evaluate_models.py`: statistics summary, per-example tables, Markdown tables, plots, and the
aggregation of several runs (training seeds).

`evaluate_models.py` generates and scores; everything after the per-example score rows exist lives here, so the
same tables can be rebuilt from saved results (`render_markdown(json.load(open("phase2_final_results.json")))`)
and tested on synthetic rows without a model.

Example:

```python
>>> from dual_codet5.reporting import aggregate_result_files
>>> agg = aggregate_result_files(["seed0/phase2_final_results.json", "seed1/phase2_final_results.json"],
...                              "outputs/eval_seeds", alpha=0.05)
>>> agg["models"]["rl_dual"]["codebleu"]["mean_percent"]
{'mean': ..., 'sd': ..., 'n': 2}
```
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dual_codet5.plots import plot_comparison
from dual_codet5.stats import (
    METRICS,
    TARGETS,
    WILCOXON_ZERO_METHOD,
    aggregate_runs,
    bootstrap_ci,
    compare_models,
    target_check,
)

logger = logging.getLogger(__name__)

__all__ = [
    "PATTERN_MODE_LABELS", "PATTERN_MODE_SHORT", "PER_EXAMPLE_FIELDS", "aggregate_result_files", "clean_json",
    "json_default", "render_markdown", "render_runs_markdown", "summarize", "write_per_example", "write_plots",
]  # fmt: skip

PATTERN_MODE_SHORT = {"retrieved": "retrieved", "oracle": "oracle (upper bound)", "none": "none"}
PATTERN_MODE_LABELS = {
    "retrieved": "retrieved (pattern bank of the train split)",
    "oracle": "oracle (upper bound: pattern extracted from the reference YAML)",
    "none": "none (empty pattern)",
}


# ------------------------------------------------------------------------------------------------------ statistics
def _pct_row(name: str, spec: Any, values: np.ndarray, confidence_level: float, n_resamples: int, seed: int) -> dict:
    """Mean, sd and bootstrap CI of one metric; n/a examples (NaN: no check of the category applies) are left out
    and counted in ``n_na``, never averaged in as 0 or 100."""
    values = np.asarray(values, dtype=float)
    n_na = int(np.sum(~np.isfinite(values)))
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {
            "model": name, "metric": spec.name, "title": spec.title, "mean": None, "sd": None, "mean_percent": None,
            "ci_low_percent": None, "ci_high_percent": None, "ci_method": "undefined", "n": 0, "n_na": n_na,
        }  # fmt: skip
    low, high, method = bootstrap_ci(
        values * spec.to_percent, confidence_level=confidence_level, n_resamples=n_resamples, seed=seed
    )
    return {
        "model": name,
        "metric": spec.name,
        "title": spec.title,
        "mean": float(np.mean(values)),
        "sd": float(np.std(values, ddof=1)) if values.size > 1 else 0.0,
        "mean_percent": float(np.mean(values) * spec.to_percent),
        "ci_low_percent": low,
        "ci_high_percent": high,
        "ci_method": method,
        "n": int(values.size),
        "n_na": n_na,
    }


def summarize(
    entries: Sequence[Mapping[str, Any]],
    rows: Mapping[str, list[dict]],
    *,
    confidence_level: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
) -> dict:
    """Means with CIs, paired comparisons against the baseline (Holm across metrics), and the target checks.

    Args:
        entries: one mapping per evaluated system, baseline FIRST, with `name`, `path`, `decoding` (a dict),
            `decoding_text`; any further keys (e.g. `system`, `fallback`) are copied into the summary.
        rows: name -> per-example score rows (same examples, same order, for every name), each with the metric
            names of `dual_codet5.stats.METRICS` it has and `n_repairs`.
        confidence_level, n_resamples, seed: of every bootstrap CI and target bound.

    Returns:
        `{"baseline": name, "metrics": [...], "models": [...]}` as stored under `summary` in the results file.
    """
    baseline = entries[0]["name"]
    ci = {"confidence_level": confidence_level, "n_resamples": n_resamples, "seed": seed}
    metrics = [m for m in METRICS if all(m.name in r for r in rows[baseline])]
    arrays = {name: {m.name: np.array([r[m.name] for r in rows[name]], dtype=float) for m in metrics} for name in rows}
    models = []
    for given in entries:
        name = given["name"]
        entry: dict[str, Any] = {
            **given,
            "is_baseline": name == baseline,
            "summary": {m.name: _pct_row(name, m, arrays[name][m.name], **ci) for m in metrics},
            "targets": {},
            "repairs_per_example": float(np.mean([r.get("n_repairs", 0) for r in rows[name]])),
        }
        for m in metrics:
            if m.name in TARGETS:
                entry["targets"][m.name] = target_check(
                    arrays[name][m.name],
                    TARGETS[m.name],
                    metric=m.name,
                    to_percent=m.to_percent,
                    binary=m.binary,
                    **ci,
                ).to_dict()
        if name != baseline:
            comps = compare_models(arrays[baseline], arrays[name], metrics, **ci)
            entry["comparison"] = {k: v.to_dict() for k, v in comps.items()}
        models.append(entry)
    return {"baseline": baseline, "metrics": [dataclasses.asdict(m) for m in metrics], "models": models}


# --------------------------------------------------------------------------------------------------------- outputs
PER_EXAMPLE_FIELDS = (
    "id", "model", "pattern_mode", "intent", "pattern", "reference", "source", "prediction", "raw_prediction",
    "n_candidates", "chosen_candidate", "chosen_schema_valid", "fallback_used", "n_repairs", "repaired_checks",
)  # fmt: skip


def write_per_example(
    out: Path, examples: Sequence[dict], rows: dict[str, list[dict]], metric_names: list[str], pattern_mode: str
) -> None:
    """`per_example.jsonl` and `per_example.csv`: one row per entry and example (`PER_EXAMPLE_FIELDS` + metrics).

    Args:
        out: the output folder.
        examples: the test examples (`id`, `intent`, `yaml`), in row order.
        rows: name -> per-example rows (each with its own `pattern`: patterns differ between models).
        metric_names: metric columns of the CSV.
        pattern_mode: `retrieved`, `oracle` or `none`.
    """
    table = []
    for name, model_rows in rows.items():
        for ex, row in zip(examples, model_rows):
            extra = {"model": name, "intent": ex["intent"], "pattern": row.get("pattern", ""), "reference": ex["yaml"]}
            extra["pattern_mode"] = PATTERN_MODE_SHORT[pattern_mode]
            table.append({**row, **extra})
    with (out / "per_example.jsonl").open("w") as fh:
        for row in table:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    fields = list(PER_EXAMPLE_FIELDS) + [k for k in metric_names if k not in PER_EXAMPLE_FIELDS]
    with (out / "per_example.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in table:
            writer.writerow({**row, "repaired_checks": ";".join(row["repaired_checks"])})


def _fmt(x: float | None, digits: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _p(x: float | None) -> str:
    if x is None:
        return "–"
    return "< 0.001" if x < 0.001 else f"{x:.3f}"


def _effect_label(dz: float | None) -> str:
    # Cohen's (1988) conventional cut-offs, applied to d_z
    if dz is None:
        return "undefined"
    size = abs(dz)
    return "negligible" if size < 0.2 else "small" if size < 0.5 else "medium" if size < 0.8 else "large"


def render_markdown(results: dict) -> str:
    """The Markdown results table (README-ready) from the results dictionary."""
    cfg = results["config"]
    summary = results["summary"]
    metrics = summary["metrics"]
    lines = [f"## Evaluation results{' — ' + cfg['label'] if cfg['label'] else ''}", ""]
    lines.append(
        f"Test set: {results['dataset']['source']} ({results['dataset']['n_examples']} examples, sha256 "
        f"`{results['dataset']['dataset_sha256'][:12]}`); patterns: **{results['pattern_mode_label']}**; "
        f"baseline: `{summary['baseline']}`."
    )
    decodings = {m["decoding_text"] for m in summary["models"]}
    if len(decodings) == 1:
        lines.append(f"Decoding (all models): {decodings.pop()}.")
    else:
        lines.append("Decoding differs between entries (variants): see the Decoding column.")
    lines += [
        "",
        "Means in percent with bootstrap 95 % CIs; BP %, Security and Quality over the examples where a check of the "
        "category applies (n/a counted apart, below the table):",
        "",
    ]
    header = "| Model | Decoding | " + " | ".join(m["title"] for m in metrics) + " |"
    lines += [header, "|" + "---|" * (len(metrics) + 2)]
    for model in summary["models"]:
        cells = [
            f"{_fmt(s['mean_percent'])} [{_fmt(s['ci_low_percent'])}, {_fmt(s['ci_high_percent'])}]"
            for s in (model["summary"][m["name"]] for m in metrics)
        ]
        name = model["name"] + (" (baseline)" if model["is_baseline"] and model["name"] != "baseline" else "")
        lines.append(f"| {name} | {model['decoding_text']} | " + " | ".join(cells) + " |")
    na_counts = [
        f"{model['name']}: " + ", ".join(
            f"{model['summary'][m['name']]['title']} {model['summary'][m['name']].get('n_na', 0)}" for m in metrics
            if model["summary"][m["name"]].get("n_na", 0)
        )
        for model in summary["models"]
        if any(model["summary"][m["name"]].get("n_na", 0) for m in metrics)
    ]  # fmt: skip
    if na_counts:
        lines += ["", "Examples with no applicable check (n/a, left out of that mean): " + "; ".join(na_counts) + "."]
    alpha = cfg["alpha"]
    lines += [
        "",
        f"Paired differences to the baseline (percentage points): mean Δ with BCa 95 % CI; primary test Wilcoxon "
        f"signed-rank (zero_method={WILCOXON_ZERO_METHOD}) or exact McNemar for validity; p Holm-corrected across "
        f"the metrics of one model; significant means p_Holm < {alpha}:",
        "",
        "| Model | Metric | Δ [95 % CI] | d_z [95 % CI] | Test | p | p (Holm) | t-test p | Verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for model in summary["models"]:
        for m in metrics:
            comp = model.get("comparison", {}).get(m["name"])
            if comp is None:
                continue
            k = m["to_percent"]
            dz = comp["cohens_dz"]
            dz_cell = f"{_fmt(dz, 2)} [{_fmt(comp['dz_ci_low'], 2)}, {_fmt(comp['dz_ci_high'], 2)}]"
            significant = (comp["primary_p_holm"] or 1.0) < alpha
            better = (comp["mean_diff"] > 0) == m["higher_is_better"]
            verdict = ("better" if better else "worse") if significant else "n.s."
            verdict += f", {_effect_label(dz)}"
            test = "McNemar" if comp["primary_test"] == "mcnemar_exact" else "Wilcoxon"
            lines.append(
                f"| {model['name']} | {m['title']} | {comp['mean_diff'] * k:+.1f} [{comp['ci_low'] * k:+.1f}, "
                f"{comp['ci_high'] * k:+.1f}] | {dz_cell} | {test} | {_p(comp['primary_p'])} | "
                f"{_p(comp['primary_p_holm'])} | {_p(comp['ttest_p'])} | {verdict} |"
            )
    lines += [
        "",
        f"Targets of the seed, judged by the one-sided {int(cfg['confidence_level'] * 100)} % bootstrap lower bound "
        "(validity also by the exact Clopper-Pearson bound):",
        "",
        "| Model | Metric | Target | Mean | Lower bound | Met |",
        "|---|---|---|---|---|---|",
    ]
    for model in summary["models"]:
        for metric, t in model["targets"].items():
            bound = _fmt(t["lower_bound"])
            if t["exact_lower_bound"] is not None:
                bound += f" (exact {_fmt(t['exact_lower_bound'])})"
            met = "yes" if t["met_lower_bound"] else ("point estimate only" if t["met_point_estimate"] else "no")
            title = next(m["title"] for m in metrics if m["name"] == metric)
            lines.append(f"| {model['name']} | {title} | ≥ {t['threshold']:g} | {_fmt(t['mean'])} | {bound} | {met} |")
    return "\n".join(lines) + "\n"


def write_plots(out: Path, results: dict, rows: dict[str, list[dict]]) -> dict[str, Path]:
    summary = results["summary"]
    metrics = summary["metrics"]
    means = [model["summary"][m["name"]] for model in summary["models"] for m in metrics]
    base_rows = rows[summary["baseline"]]
    diffs, cis = [], []
    for model in summary["models"]:
        if model["is_baseline"]:
            continue
        for m in metrics:
            k = m["to_percent"]
            for b, r in zip(base_rows, rows[model["name"]]):
                diff = (r[m["name"]] - b[m["name"]]) * k
                row = {"model": model["name"], "metric": m["name"], "example_id": r["id"], "diff_percent": diff}
                diffs.append(row)
            comp = model["comparison"][m["name"]]
            cis.append(
                {
                    "model": model["name"],
                    "metric": m["name"],
                    "mean_diff_percent": comp["mean_diff"] * k,
                    "ci_low_percent": comp["ci_low"] * k,
                    "ci_high_percent": comp["ci_high"] * k,
                    "primary_p_holm": comp["primary_p_holm"],
                }
            )
    mode = PATTERN_MODE_SHORT[results["pattern_mode"]]
    means = [{**row, "pattern_mode": mode} for row in means]
    for row in (*diffs, *cis):
        row["pattern_mode"] = mode
    label = results["config"]["label"]
    title = (f"{label} — " if label else "") + f"patterns: {results['pattern_mode_label']}"
    return plot_comparison(means, diffs, cis, out, title=title)


def json_default(obj: Any) -> Any:
    """`json.dumps(default=...)` for NumPy scalars and paths."""
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def clean_json(obj: Any) -> Any:
    """The same structure with every non-finite float as None (JSON has no Infinity / NaN: they become null)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_json(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------------------------------- several runs
def render_runs_markdown(agg: Mapping[str, Any]) -> str:
    """The Markdown table of `aggregate_result_files` (mean ± sd over runs)."""
    mode = agg["pattern_mode"]
    lines = [
        f"## Results over {agg['n_runs']} training seeds (mean ± sd over seeds)",
        "",
        f"Patterns: **{PATTERN_MODE_LABELS.get(mode, mode)}**"
        + ("" if agg["same_test_set"] else "; WARNING: the runs used different test sets")
        + f"; a run counts as significant when p_Holm < {agg['alpha']:g}.",
        "",
        "| Model | Metric | Mean (%) | Δ to baseline (pp) | d_z | Significant runs |",
        "|---|---|---|---|---|---|",
    ]

    def ms(d: Mapping[str, Any]) -> str:
        return "–" if d["mean"] is None else f"{d['mean']:.1f} ± {d['sd']:.1f}"

    for name, per_metric in agg["models"].items():
        for metric, s in per_metric.items():
            sig = f"{s['n_significant']}/{s['n_compared']}" if s["n_compared"] else "–"
            lines.append(
                f"| {name} | {metric} | {ms(s['mean_percent'])} | {ms(s['mean_diff_percent'])} | "
                f"{ms(s['cohens_dz'])} | {sig} |"
            )
    return "\n".join(lines) + "\n"


def aggregate_result_files(paths: Sequence[str | Path], output_dir: str | Path, *, alpha: float = 0.05) -> dict:
    """Aggregate several results files (one evaluation per training seed) into `runs_summary.json` / `.md`.

    Args:
        paths: `phase2_final_results.json` files written by `evaluate_models.py`, all with one pattern mode.
        output_dir: where `runs_summary.json` and `runs_summary.md` are written.
        alpha: a run's comparison counts as significant when its Holm-corrected p is below this.

    Returns:
        `dual_codet5.stats.aggregate_runs`'s dict plus `files`, `pattern_mode`, `upper_bound`, `same_test_set`,
        `alpha`.
    """
    runs = [json.loads(Path(p).read_text()) for p in paths]
    modes = sorted({r.get("pattern_mode", "?") for r in runs})
    if len(modes) > 1:
        raise ValueError(f"the runs mix pattern modes {modes}: aggregate runs of one mode at a time")
    hashes = {r.get("dataset", {}).get("dataset_sha256") for r in runs}
    if len(hashes) > 1:
        logger.warning("the runs were evaluated on %d different test sets (dataset_sha256 differs)", len(hashes))
    agg = aggregate_runs(runs, alpha=alpha)
    agg.update(
        files=[str(p) for p in paths],
        pattern_mode=modes[0],
        upper_bound=modes[0] == "oracle",
        same_test_set=len(hashes) == 1,
        alpha=alpha,
    )
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "runs_summary.json").write_text(json.dumps(clean_json(agg), indent=2, default=json_default) + "\n")
    (out / "runs_summary.md").write_text(render_runs_markdown(agg))
    return agg
