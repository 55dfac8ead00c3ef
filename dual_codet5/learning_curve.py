"""Learning curves: validation CodeBLEU and schema-valid against training minutes, retrieval as a horizontal line.

Every saved checkpoint of each SFT run (`stage1_epoch{N}/`, and `stage1_step{S}/` with
`train_sft.py --save_model_steps`) is scored on the first `--max_examples` validation intents (greedy,
`dual_codet5.validation.model_scores`); its x value is the training wall time when it was saved, read from the run's
``metrics.jsonl`` (``elapsed_s``, written by `train_utils.MetricsLog`). Writes ``learning_curve.png`` and the
numbers behind it (``learning_curve.json`` / ``.csv``)::

    python -m dual_codet5.learning_curve --runs baseline=runs/cpu/sft_baseline dual=runs/cpu/sft_dual \\
        --max_examples 100 --output_dir runs/cpu/curve
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dual_codet5.train_utils import read_metrics
from dual_codet5.validation import model_scores, retrieval_scores, summarize, validation_rows

logger = logging.getLogger(__name__)

__all__ = ["saved_checkpoints", "learning_curve", "plot_learning_curve", "main"]

_CHECKPOINT_DIR = re.compile(r"stage1_(epoch|step)(\d+)$")


def saved_checkpoints(run_dir: str | Path) -> list[tuple[str, float, Path]]:
    """`(label, training minutes when saved, model folder)` for every saved point of an SFT run, in time order.

    Points are the end-of-epoch folders `stage1_epoch{N}` and the `stage1_step{S}` folders of
    `train_sft.py --save_model_steps`; their times come from ``metrics.jsonl`` (``elapsed_s`` of the epoch's
    evaluation record, or of the last training record of that epoch without validation; of the
    ``saved_model_step`` record for a step folder).

    Raises:
        ValueError: when the run has no ``metrics.jsonl``, no checkpoint, or no time for a checkpoint.
    """
    run_dir = Path(run_dir)
    metrics_path = run_dir / "metrics.jsonl"
    if not metrics_path.exists():
        raise ValueError(f"{run_dir} has no metrics.jsonl: not a train_sft.py output folder")
    times: dict[tuple[str, int], float] = {}
    for record in read_metrics(metrics_path):
        if "elapsed_s" not in record:
            continue
        if "saved_model_step" in record:
            times[("step", int(record["saved_model_step"]))] = float(record["elapsed_s"])
            continue
        epoch = record.get("epoch", record.get("train/epoch"))
        if epoch is not None:
            times[("epoch", int(epoch))] = float(record["elapsed_s"])
    points = []
    for folder in run_dir.iterdir():
        match = _CHECKPOINT_DIR.match(folder.name)
        if match and (folder / "config.json").exists():
            key = (match.group(1), int(match.group(2)))
            if key not in times:
                raise ValueError(f"{metrics_path} has no elapsed_s for {folder.name} (trained before it was logged?)")
            points.append((f"{key[0]} {key[1]}", times[key] / 60.0, folder))
    if not points:
        raise ValueError(f"{run_dir} has no stage1_epoch*/ or stage1_step*/ checkpoints")
    return sorted(points, key=lambda point: point[1])


def learning_curve(
    runs: dict[str, str | Path],
    max_examples: int = 100,
    max_new_tokens: int = 384,
    batch_size: int = 16,
    lookup_bonus: float = 0.0,
) -> dict[str, Any]:
    """Score every epoch checkpoint of every run (and retrieval) on the same validation intents.

    Returns:
        `{"examples": n, "retrieval": summary, "retrieval_adapt": summary, "points": [{"run", "epoch", "minutes",
        "codebleu", "schema_valid", ...}, ...]}` with `dual_codet5.validation.summarize` numbers (`retrieval_adapt`:
        the retrieved manifest adapted to the intent, `k8s_data.adapt`).
    """
    rows = validation_rows(max_examples)
    result: dict[str, Any] = {
        "examples": len(rows),
        "lookup_bonus": lookup_bonus,
        "retrieval": summarize(retrieval_scores(rows)),
        "retrieval_adapt": summarize(retrieval_scores(rows, adapt=True)),
        "points": [],
    }
    for name, run_dir in runs.items():
        for label, minutes, folder in saved_checkpoints(run_dir):
            scores, seconds = model_scores(
                folder, rows, max_new_tokens=max_new_tokens, batch_size=batch_size, lookup_bonus=lookup_bonus
            )
            point = {"run": name, "checkpoint": label, "minutes": round(minutes, 2), **summarize(scores)}
            logger.info("%s %s (%.1f min): %s (scored in %.0f s)", name, label, minutes, point, seconds)
            result["points"].append(point)
    return result


def plot_learning_curve(result: dict[str, Any], path: str | Path, title: str = "") -> None:
    """Two panels (CodeBLEU, schema-valid %) against training minutes; retrieval dashed, adapted retrieval dotted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in zip(axes, ("codebleu", "schema_valid"), ("CodeBLEU (x100)", "schema-valid %")):
        for name in dict.fromkeys(p["run"] for p in result["points"]):
            points = [p for p in result["points"] if p["run"] == name]
            ax.plot([p["minutes"] for p in points], [p[key] for p in points], marker="o", label=name)
        ax.axhline(result["retrieval"][key], color="grey", linestyle="--", label="retrieval")
        if "retrieval_adapt" in result:  # results written before adaptation existed lack it
            ax.axhline(result["retrieval_adapt"][key], color="black", linestyle=":", label="retrieval + adapt")
        ax.set_xlabel("training minutes (wall clock)")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].legend()
    lookup = f", exemplar lookup {result['lookup_bonus']:g}" if result.get("lookup_bonus") else ""
    fig.suptitle(title or f"validation, first {result['examples']} intents, greedy{lookup}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_learning_curve(result: dict[str, Any], output_dir: str | Path, title: str = "") -> Path:
    """``learning_curve.{png,json,csv}`` in `output_dir`; returns the PNG path."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "learning_curve.json").write_text(json.dumps(result, indent=2))
    fields = ["run", "checkpoint", "minutes", "n", "codebleu", "schema_valid", "quality", "bp"]
    with open(output_dir / "learning_curve.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for baseline in ("retrieval", "retrieval_adapt"):
            if baseline in result:
                writer.writerow({"run": baseline, "checkpoint": "", "minutes": "", **result[baseline]})
        for point in result["points"]:
            writer.writerow({k: point[k] for k in fields})
    png = output_dir / "learning_curve.png"
    plot_learning_curve(result, png, title)
    return png


def _parse_runs(entries: Sequence[str]) -> dict[str, str]:
    runs = {}
    for entry in entries:
        name, sep, path = entry.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--runs entries are NAME=RUN_DIR, got {entry!r}")
        runs[name] = path
    return runs


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m dual_codet5.learning_curve", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", nargs="+", required=True, help="NAME=RUN_DIR of train_sft.py runs")
    parser.add_argument("--max_examples", type=int, default=100, help="First N validation intents.")
    parser.add_argument("--max_new_tokens", type=int, default=384, help="Generation budget.")
    parser.add_argument("--batch_size", type=int, default=16, help="Intents per generate call.")
    parser.add_argument("--output_dir", required=True, help="Where learning_curve.{png,json,csv} go.")
    parser.add_argument("--title", default="", help="Figure title.")
    parser.add_argument("--lookup_bonus", type=float, default=0.0, help="Exemplar lookup bonus (0 = off).")
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    result = learning_curve(
        _parse_runs(args.runs), args.max_examples, args.max_new_tokens, args.batch_size, args.lookup_bonus
    )
    png = write_learning_curve(result, args.output_dir, args.title)
    retrieval = result["retrieval"]
    print(f"retrieval: CodeBLEU {retrieval['codebleu']:.1f}, schema-valid {retrieval['schema_valid']:.1f} %")
    for p in result["points"]:
        print(f"{p['run']:<12} {p['checkpoint']:<10} {p['minutes']:>7.1f} min  CodeBLEU {p['codebleu']:5.1f}  "
              f"schema-valid {p['schema_valid']:5.1f} %")  # fmt: skip
    print(f"wrote {png}")
    return png


if __name__ == "__main__":
    main()
