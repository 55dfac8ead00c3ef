"""Comparison plots for `evaluate_models.py`, each written with the numbers behind it (JSON and CSV).

One figure, ``comparison_plots.png``, two rows with one column per metric:

- top: each model's mean (percent) with its bootstrap 95 % CI as error bars;
- bottom: the distribution of per-example differences to the baseline (box plot with the points over it), with the
  paired BCa CI of the mean difference drawn as a bar; a line at 0 is "no difference".

The data files are ``plot_means.{json,csv}`` (one row per model and metric) and ``plot_differences.{json,csv}``
(one row per model, metric and example), so every plotted number can be checked or re-plotted.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on training machines or CI

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before pyplot is imported)
import numpy as np  # noqa: E402

logger = logging.getLogger(__name__)

__all__ = ["write_rows", "plot_comparison"]

# `pattern_mode` travels with every row so that an oracle (upper-bound) number is never read without its label.
MEAN_FIELDS = ("model", "metric", "title", "mean_percent", "ci_low_percent", "ci_high_percent", "n", "pattern_mode")
DIFF_FIELDS = ("model", "metric", "example_id", "diff_percent", "pattern_mode")
DIFF_CI_FIELDS = (
    "model", "metric", "mean_diff_percent", "ci_low_percent", "ci_high_percent", "primary_p_holm", "pattern_mode",
)  # fmt: skip


def write_rows(rows: Sequence[dict], fields: Sequence[str], stem: Path) -> tuple[Path, Path]:
    """Write rows as `<stem>.json` (a list of objects) and `<stem>.csv` (header `fields`)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = stem.with_suffix(".json"), stem.with_suffix(".csv")
    json_path.write_text(json.dumps(list(rows), indent=2) + "\n")
    with csv_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return json_path, csv_path


def plot_comparison(
    means: Sequence[dict],
    differences: Sequence[dict],
    diff_cis: Sequence[dict],
    out_dir: str | Path,
    *,
    title: str = "",
    filename: str = "comparison_plots.png",
) -> dict[str, Path]:
    """Draw the comparison figure and write the data behind it.

    Args:
        means: rows with `MEAN_FIELDS` (a model's mean and CI on one metric, in percent).
        differences: rows with `DIFF_FIELDS` (one example's model - baseline difference, in percent).
        diff_cis: rows with `DIFF_CI_FIELDS` (the paired CI of the mean difference, in percent).
        out_dir: output folder.
        title: figure title (e.g. the pattern mode and decoding config).
        filename: name of the PNG.

    Returns:
        name → path of every file written (`plot`, `means_json`, `means_csv`, `differences_json`, ...).
    """
    out = Path(out_dir)
    paths: dict[str, Path] = {}
    paths["means_json"], paths["means_csv"] = write_rows(means, MEAN_FIELDS, out / "plot_means")
    paths["differences_json"], paths["differences_csv"] = write_rows(
        differences, DIFF_FIELDS, out / "plot_differences"
    )
    paths["diff_ci_json"], paths["diff_ci_csv"] = write_rows(diff_cis, DIFF_CI_FIELDS, out / "plot_diff_ci")

    metrics = list(dict.fromkeys(r["metric"] for r in means))
    titles = {r["metric"]: r.get("title", r["metric"]) for r in means}
    models = list(dict.fromkeys(r["model"] for r in means))
    compared = [m for m in models if any(r["model"] == m for r in diff_cis)]
    colors = plt.get_cmap("tab10")(np.arange(max(len(models), 1)) % 10)

    ncols = max(len(metrics), 1)
    fig, axes = plt.subplots(2, ncols, figsize=(2.6 * ncols + 1, 7.0), squeeze=False)
    for j, metric in enumerate(metrics):
        ax = axes[0, j]
        rows = {r["model"]: r for r in means if r["metric"] == metric}
        heights = [rows[m]["mean_percent"] if m in rows else np.nan for m in models]
        lows = [rows[m]["mean_percent"] - rows[m]["ci_low_percent"] if m in rows else 0.0 for m in models]
        highs = [rows[m]["ci_high_percent"] - rows[m]["mean_percent"] if m in rows else 0.0 for m in models]
        ax.bar(range(len(models)), heights, yerr=[lows, highs], color=colors, capsize=3)
        ax.set_xticks(range(len(models)), models, rotation=45, ha="right", fontsize=7)
        ax.set_title(titles[metric], fontsize=9)
        ax.set_ylim(0, 105)
        if j == 0:
            ax.set_ylabel("mean (%) ± 95 % CI")

        ax = axes[1, j]
        data = [
            [r["diff_percent"] for r in differences if r["metric"] == metric and r["model"] == m] for m in compared
        ]
        if compared and any(data):
            ax.boxplot(data, positions=range(len(compared)), widths=0.5, showfliers=False)
            jitter = np.random.default_rng(0)  # fixed jitter: the figure is reproducible
            for k, values in enumerate(data):
                ax.scatter(k + jitter.uniform(-0.15, 0.15, len(values)), values, s=6, alpha=0.4, color="gray")
            for k, m in enumerate(compared):
                ci = next((r for r in diff_cis if r["model"] == m and r["metric"] == metric), None)
                if ci is not None:
                    mid = ci["mean_diff_percent"]
                    ax.errorbar(
                        k + 0.3,
                        mid,
                        yerr=[[mid - ci["ci_low_percent"]], [ci["ci_high_percent"] - mid]],
                        fmt="o",
                        color="crimson",
                        capsize=3,
                        markersize=4,
                    )
            ax.set_xticks(range(len(compared)), compared, rotation=45, ha="right", fontsize=7)
        ax.axhline(0.0, color="black", linewidth=0.8)
        if j == 0:
            ax.set_ylabel("per-example difference to baseline (pp)")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    paths["plot"] = out / filename
    fig.savefig(paths["plot"], dpi=120)
    plt.close(fig)
    logger.info("wrote %s", paths["plot"])
    return paths
