"""Evaluate models against a baseline: generate, score, paired statistics, plots, results JSON and a Markdown table.

Every model reads the same test examples with the same patterns and (unless a model entry overrides it, see below)
the same decoding config; every output is scored with `k8s_scoring.score(prediction, reference)`; each model is
compared with the FIRST one (the baseline) example by example (see `dual_codet5.stats`).

Commands:

```bash
# baseline vs SFT dual vs RL dual on our test split (patterns retrieved from the train-split bank), beam 4
python evaluate_models.py --models baseline=outputs/baseline/final sft=outputs/sft/final rl=outputs/rl/final \
    --output_dir outputs/eval
# several GPUs: generation is sharded over processes, results gathered on the main one
accelerate launch --config_file configs/accelerate/multi_gpu.yaml evaluate_models.py \
    --models baseline=outputs/baseline/final rl=outputs/rl/final --output_dir outputs/eval
# the seed's own test file, patterns oracle (an UPPER BOUND: the pattern comes from the target) or none
python evaluate_models.py --models baseline=... rl=... --test_file test_data.json --pattern_mode oracle
# decoding / repair variants (issue 7): a `@key=value,...` suffix overrides the decoding of one entry, so RL can be
# compared with sampling more (best-of-8 by the reference-free quality score) and with repairing after the fact
python evaluate_models.py --models sft=outputs/sft/final rl=outputs/rl/final \
    sft_best_of_8=outputs/sft/final@best_of_n=8,do_sample=true,num_beams=1 sft_repair=outputs/sft/final@repair=true
# several training seeds, each evaluated as above: mean ± sd over seeds
python evaluate_models.py --runs outputs/eval_seed*/phase2_final_results.json --output_dir outputs/eval_seeds
```

Outputs in `--output_dir`: `per_example.jsonl` and `per_example.csv` (one row per model and example),
`phase2_final_results.json` (every number, the decoding configs, model paths, dataset hash), `comparison_plots.png`
with `plot_*.json` / `plot_*.csv` behind it, and `results.md` (Markdown tables for the README).
"""

from __future__ import annotations

import csv
import dataclasses
import gc
import hashlib
import json
import logging
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.utils import gather_object
from transformers import HfArgumentParser, set_seed

from dual_codet5.inference import generate_yaml, load_for_inference
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

logger = get_logger(__name__)

PATTERN_MODES = ("retrieved", "oracle", "none")
PATTERN_MODE_SHORT = {"retrieved": "retrieved", "oracle": "oracle (upper bound)", "none": "none"}
PATTERN_MODE_LABELS = {
    "retrieved": "retrieved (pattern bank of the train split)",
    "oracle": "oracle (upper bound: pattern extracted from the reference YAML)",
    "none": "none (empty pattern)",
}
# Decoding fields a model entry may override with `name=path@key=value,...`.
DECODING_FIELDS = ("num_beams", "do_sample", "temperature", "top_p", "best_of_n", "repair", "max_new_tokens")
RESULTS_FILE = "phase2_final_results.json"


@dataclass
class EvalArguments:
    """Arguments of `evaluate_models.py` (flags, or one YAML file with these keys)."""

    models: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Models as NAME=PATH (a save_pretrained folder or Hub id); the FIRST is the baseline. A suffix "
            "@key=value,... overrides the decoding of that entry (keys: " + ", ".join(DECODING_FIELDS) + ")."
        },
    )
    runs: list[str] = field(
        default_factory=list,
        metadata={"help": f"Instead of evaluating: aggregate several {RESULTS_FILE} files (one per training seed)."},
    )
    test_file: str | None = field(
        default=None,
        metadata={"help": "JSONL or the seed's JSON list with `intent` and `yaml`; default: our test split."},
    )
    split: str = field(default="test", metadata={"help": "Split of our dataset to use when no --test_file."})
    data_seed: int = field(default=0, metadata={"help": "Seed passed to k8s_data.load_k8s_intents."})
    pattern_mode: str = field(
        default="retrieved",
        metadata={"help": "retrieved | oracle (upper bound: pattern from the target) | none (empty pattern)."},
    )
    output_dir: str = field(default="outputs/eval", metadata={"help": "Where every output is written."})
    label: str = field(default="", metadata={"help": "Free text put in the title of results.md and the plot."})
    max_examples: int | None = field(default=None, metadata={"help": "Use only the first N test examples."})
    batch_size: int = field(default=8, metadata={"help": "Intents per generate call (per process)."})
    max_new_tokens: int = field(default=512, metadata={"help": "Generation length limit."})
    max_source_length: int | None = field(
        default=None,
        metadata={
            "help": "Intent tokens kept (baseline: this + max_pattern_length for intent and pattern together). "
            "Default: each model's training value from its training_args.yaml, else 128."
        },
    )
    max_pattern_length: int | None = field(
        default=None, metadata={"help": "Pattern tokens kept (dual model). Default: the training value, else 256."}
    )
    num_beams: int = field(default=4, metadata={"help": "Beam width (1 = greedy or plain sampling)."})
    do_sample: bool = field(default=False, metadata={"help": "Sample instead of beam search."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature (with --do_sample)."})
    top_p: float = field(default=1.0, metadata={"help": "Nucleus sampling mass (with --do_sample)."})
    best_of_n: int = field(
        default=1,
        metadata={
            "help": "Draw K candidates per intent and keep the best by the reference-free k8s_scoring quality "
            "(needs --do_sample --num_beams 1 to sample K, or --num_beams >= K to rerank the beam)."
        },
    )
    repair: bool = field(default=False, metadata={"help": "Apply k8s_scoring.repair to each output before scoring."})
    dtype: str | None = field(default=None, metadata={"help": "Weight dtype for generation, e.g. bfloat16 on GPU."})
    seed: int = field(default=0, metadata={"help": "Seed for sampling and for the bootstrap."})
    n_resamples: int = field(default=9999, metadata={"help": "Bootstrap resamples for every CI."})
    confidence_level: float = field(default=0.95, metadata={"help": "Level of the CIs and of the target bounds."})
    alpha: float = field(default=0.05, metadata={"help": "Significance level after Holm correction."})

    def __post_init__(self):
        if not self.models and not self.runs:
            raise ValueError("give --models NAME=PATH ... (first = baseline) or --runs RESULTS.json ...")
        if self.models and self.runs:
            raise ValueError("--models evaluates, --runs aggregates earlier evaluations: give one of them")
        if self.pattern_mode not in PATTERN_MODES:
            raise ValueError(f"--pattern_mode must be one of {PATTERN_MODES}, got {self.pattern_mode!r}")
        if self.models:
            specs = parse_model_specs(self.models, base=decoding_from(self))
            names = [s.name for s in specs]
            if len(set(names)) != len(names):
                raise ValueError(f"model names must be unique, got {names}")


@dataclass(frozen=True)
class Decoding:
    """One decoding config (shared by all models unless an entry overrides it)."""

    num_beams: int = 4
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    best_of_n: int = 1
    repair: bool = False
    max_new_tokens: int = 512

    def __post_init__(self):
        if self.best_of_n < 1 or self.num_beams < 1:
            raise ValueError(f"best_of_n and num_beams must be >= 1, got {self.best_of_n}, {self.num_beams}")
        # transformers returns at most num_beams sequences whenever num_beams > 1 (beam search or beam sampling)
        if self.best_of_n > self.num_beams and (self.num_beams > 1 or not self.do_sample):
            raise ValueError(
                f"best_of_n={self.best_of_n} draws that many candidates: sample them (do_sample=true, num_beams=1) "
                f"or rerank the beam (num_beams >= {self.best_of_n}); got num_beams={self.num_beams}, "
                f"do_sample={self.do_sample}"
            )

    def generation_key(self) -> tuple:
        """What changes the candidates (repair is applied after generation, so it is not part of the key)."""
        return (self.num_beams, self.do_sample, self.temperature, self.top_p, self.best_of_n, self.max_new_tokens)

    def describe(self) -> str:
        search = f"sample(T={self.temperature}, top_p={self.top_p})" if self.do_sample else "beam"
        text = f"{search}, beams={self.num_beams}, max_new_tokens={self.max_new_tokens}"
        if self.best_of_n > 1:
            text += f", best-of-{self.best_of_n} by quality"
        if self.repair:
            text += ", + repair"
        return text


@dataclass(frozen=True)
class ModelSpec:
    name: str
    path: str
    decoding: Decoding


def decoding_from(args: EvalArguments) -> Decoding:
    return Decoding(**{k: getattr(args, k) for k in DECODING_FIELDS})


def _parse_value(key: str, text: str) -> Any:
    kind = type(getattr(Decoding(), key))
    if kind is bool:
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"{key} expects true/false, got {text!r}")
        return text.lower() in ("true", "1", "yes")
    return kind(text)


def parse_model_specs(entries: Sequence[str], base: Decoding) -> list[ModelSpec]:
    """Parse `NAME=PATH[@key=value,...]` entries (a bare PATH is named after its last folder)."""
    specs = []
    for entry in entries:
        name, sep, rest = entry.partition("=")
        if not sep or "/" in name:  # a bare path (which may itself contain '=' after a '/')
            name, rest = Path(entry.split("@", 1)[0]).name, entry
        path, _, overrides = rest.partition("@")
        changes: dict[str, Any] = {}
        for item in filter(None, overrides.split(",")):
            key, eq, value = item.partition("=")
            if not eq or key not in DECODING_FIELDS:
                raise ValueError(f"bad override {item!r} in {entry!r}: use key=value with key in {DECODING_FIELDS}")
            changes[key] = _parse_value(key, value)
        specs.append(ModelSpec(name=name, path=path, decoding=dataclasses.replace(base, **changes)))
    return specs


# ----------------------------------------------------------------------------------------------------- test data
def _read_records(path: Path) -> list[dict]:
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    if isinstance(data, dict):  # {"data": [...]} or {"test": [...]}
        data = next(v for v in data.values() if isinstance(v, list))
    return list(data)


def load_examples(args: EvalArguments) -> list[dict]:
    """Test examples as dicts with `id`, `intent`, `yaml` (the reference) and `pattern` (per `--pattern_mode`)."""
    if args.test_file:
        path = Path(args.test_file)
        records = _read_records(path)
        missing = [i for i, r in enumerate(records) if "intent" not in r or "yaml" not in r]
        if missing:
            raise ValueError(f"{path}: records {missing[:5]} lack `intent` or `yaml`")
        examples = [
            {"id": str(r.get("id", f"{path.stem}-{i}")), "intent": r["intent"], "yaml": r["yaml"], "pattern": None}
            for i, r in enumerate(records)
        ]
    else:
        from k8s_data import load_k8s_intents

        split = load_k8s_intents(pattern_mode="retrieved", seed=args.data_seed)[args.split]
        examples = [
            {"id": str(r["id"]), "intent": r["intent"], "yaml": r["yaml"], "pattern": r["k8s_pattern"]} for r in split
        ]
    if args.max_examples is not None:
        examples = examples[: args.max_examples]
    if args.pattern_mode == "oracle":
        from k8s_data import extract_pattern

        for ex in examples:
            ex["pattern"] = extract_pattern(ex["yaml"])
    elif args.pattern_mode == "none":
        for ex in examples:
            ex["pattern"] = ""
    elif any(ex["pattern"] is None for ex in examples):
        from k8s_data import default_pattern_bank

        bank = default_pattern_bank()  # built from OUR train split: no test example can retrieve itself
        for ex in examples:
            if ex["pattern"] is None:
                ex["pattern"] = bank.retrieve(ex["intent"])
    if not examples:
        raise ValueError("no test examples")
    return examples


def dataset_hashes(examples: Sequence[dict]) -> dict[str, str]:
    """SHA-256 of the examples (id, intent, reference) and of the model inputs (plus patterns)."""

    def digest(keys: tuple[str, ...]) -> str:
        payload = json.dumps([[ex[k] for k in keys] for ex in examples], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()

    return {"dataset_sha256": digest(("id", "intent", "yaml")), "inputs_sha256": digest(("id", "intent", "pattern"))}


# ------------------------------------------------------------------------------------------- selection and repair
def _quality(text: str) -> float:
    from k8s_scoring import score

    return float(score(text)["quality"])


def resolve_pick_best() -> tuple[Callable[[list[str]], Any], str]:
    """`dual_codet5.generate.pick_best` when available, else a local argmax of the reference-free quality."""
    try:
        from dual_codet5.generate import pick_best

        return pick_best, "dual_codet5.generate.pick_best"
    except ImportError:

        def local_pick_best(candidates: list[str]) -> int:
            return int(np.argmax([_quality(c) for c in candidates]))

        return local_pick_best, "local argmax of k8s_scoring.score(text)['quality']"


def _picked_index(result: Any, candidates: list[str]) -> int:
    # pick_best returns `(index, scores)`; the local fallback an index; a chosen text is accepted too
    if isinstance(result, (int, np.integer)):
        return int(result)
    if isinstance(result, str):
        return candidates.index(result)
    if isinstance(result, tuple) and result:
        return _picked_index(result[0], candidates)
    raise TypeError(f"cannot read the chosen candidate from pick_best's result {type(result).__name__}")


def finalize_outputs(
    candidates: list[list[str]], decoding: Decoding, pick_best: Callable[[list[str]], Any]
) -> list[dict]:
    """Optionally repair every candidate, then choose one per example (best-of-n), as `dual-codet5 generate` does.

    Returns:
        per-example dicts with `prediction` (chosen, repaired when asked), `raw_prediction` (the chosen candidate as
        the model wrote it), `n_candidates`, `chosen_candidate`, `n_repairs` and `repaired_checks` (check ids).
    """
    repair = None
    if decoding.repair:
        from k8s_scoring import repair

    rows = []
    for raw_cands in candidates:
        fixed = [repair(c) if repair is not None else (c, []) for c in raw_cands]
        texts = [text for text, _ in fixed]
        index = _picked_index(pick_best(texts), texts) if len(texts) > 1 else 0
        checks = [getattr(change, "check_id", str(change)) for change in fixed[index][1]]
        rows.append(
            {
                "prediction": texts[index],
                "raw_prediction": raw_cands[index],
                "n_candidates": len(texts),
                "chosen_candidate": index,
                "n_repairs": len(checks),
                "repaired_checks": checks,
            }
        )
    return rows


# ------------------------------------------------------------------------------------------------------ evaluation
def generate_all(
    args: EvalArguments, specs: Sequence[ModelSpec], examples: Sequence[dict], accelerator: Accelerator
) -> tuple[dict[str, list[dict]], dict[str, float]]:
    """Generate, select, repair and score every example for every model.

    Each process works on its shard of the examples; the rows are gathered on every process.

    Returns:
        `(rows, seconds)`: name → per-example rows in example order (names in `specs` order), and name →
        `{"generate": s, "select_repair_score": s}` wall times on the main process's shard (`generate` is 0 for a
        variant that reuses another entry's candidates).
    """
    from k8s_scoring import score

    pick_best, picker = resolve_pick_best()
    if any(s.decoding.best_of_n > 1 for s in specs):
        logger.info("best-of-n selection: %s", picker, main_process_only=True)
    indices = list(range(len(examples)))
    results: dict[str, list[dict]] = {}
    timings: dict[str, dict[str, float]] = {}
    by_path: dict[str, list[ModelSpec]] = {}
    for spec in specs:
        by_path.setdefault(spec.path, []).append(spec)
    for path, group in by_path.items():
        loaded = load_for_inference(path, device=accelerator.device, dtype=args.dtype)
        generated: dict[tuple, list[list[str]]] = {}
        with accelerator.split_between_processes(indices) as shard:
            shard_examples = [examples[i] for i in shard]
            for spec in group:
                dec = spec.decoding
                key = dec.generation_key()
                start = time.perf_counter()
                if key not in generated:  # variants differing only in repair share their candidates
                    set_seed(args.seed)
                    gen_kwargs = {"temperature": dec.temperature, "top_p": dec.top_p} if dec.do_sample else {}
                    generated[key] = generate_yaml(
                        loaded,
                        [ex["intent"] for ex in shard_examples],
                        [ex["pattern"] for ex in shard_examples],
                        batch_size=args.batch_size,
                        max_new_tokens=dec.max_new_tokens,
                        num_beams=dec.num_beams,
                        do_sample=dec.do_sample,
                        num_return_sequences=dec.best_of_n,
                        max_source_length=args.max_source_length,
                        max_pattern_length=args.max_pattern_length,
                        **gen_kwargs,
                    )
                generated_at = time.perf_counter()
                rows = finalize_outputs(generated[key], dec, pick_best)
                for i, ex, row in zip(shard, shard_examples, rows):
                    row.update({"index": i, "id": ex["id"], "model": spec.name})
                    row.update({k: float(v) for k, v in score(row["prediction"], ex["yaml"]).items()})
                timings[spec.name] = {
                    "generate": generated_at - start,
                    "select_repair_score": time.perf_counter() - generated_at,
                }
                gathered = gather_object(rows)
                results[spec.name] = sorted(gathered, key=lambda r: r["index"])
                logger.info("%s: %d examples done", spec.name, len(results[spec.name]), main_process_only=True)
        del loaded
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    for name, rows in results.items():
        for row in rows:
            row.pop("index", None)
        logger.info("%s: %s s on the main process shard", name, timings[name], main_process_only=True)
    return {s.name: results[s.name] for s in specs}, timings


def _pct_row(name: str, spec, values: np.ndarray, args: EvalArguments) -> dict:
    low, high, method = bootstrap_ci(
        values * spec.to_percent, confidence_level=args.confidence_level, n_resamples=args.n_resamples, seed=args.seed
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
    }


def summarize(args: EvalArguments, specs: Sequence[ModelSpec], rows: dict[str, list[dict]]) -> dict:
    """Means with CIs, paired comparisons against the baseline (Holm across metrics), and the target checks."""
    baseline = specs[0].name
    metrics = [m for m in METRICS if all(m.name in r for r in rows[baseline])]
    arrays = {name: {m.name: np.array([r[m.name] for r in rows[name]], dtype=float) for m in metrics} for name in rows}
    models = []
    for spec in specs:
        entry: dict[str, Any] = {
            "name": spec.name,
            "path": spec.path,
            "is_baseline": spec.name == baseline,
            "decoding": dataclasses.asdict(spec.decoding),
            "decoding_text": spec.decoding.describe(),
            "summary": {m.name: _pct_row(spec.name, m, arrays[spec.name][m.name], args) for m in metrics},
            "targets": {},
            "repairs_per_example": float(np.mean([r["n_repairs"] for r in rows[spec.name]])),
        }
        for m in metrics:
            if m.name in TARGETS:
                entry["targets"][m.name] = target_check(
                    arrays[spec.name][m.name],
                    TARGETS[m.name],
                    metric=m.name,
                    to_percent=m.to_percent,
                    binary=m.binary,
                    confidence_level=args.confidence_level,
                    n_resamples=args.n_resamples,
                    seed=args.seed,
                ).to_dict()
        if spec.name != baseline:
            comps = compare_models(
                arrays[baseline],
                arrays[spec.name],
                metrics,
                confidence_level=args.confidence_level,
                n_resamples=args.n_resamples,
                seed=args.seed,
            )
            entry["comparison"] = {k: v.to_dict() for k, v in comps.items()}
        models.append(entry)
    return {"baseline": baseline, "metrics": [dataclasses.asdict(m) for m in metrics], "models": models}


# --------------------------------------------------------------------------------------------------------- outputs
PER_EXAMPLE_FIELDS = (
    "id", "model", "pattern_mode", "intent", "pattern", "reference", "prediction", "raw_prediction", "n_candidates",
    "chosen_candidate", "n_repairs", "repaired_checks",
)  # fmt: skip


def write_per_example(
    out: Path, examples: Sequence[dict], rows: dict[str, list[dict]], metric_names: list[str], pattern_mode: str
) -> None:
    table = []
    for name, model_rows in rows.items():
        for ex, row in zip(examples, model_rows):
            extra = {"model": name, "intent": ex["intent"], "pattern": ex["pattern"], "reference": ex["yaml"]}
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
    lines += ["", "Means in percent with bootstrap 95 % CIs:", ""]
    header = "| Model | Decoding | " + " | ".join(m["title"] for m in metrics) + " |"
    lines += [header, "|" + "---|" * (len(metrics) + 2)]
    for model in summary["models"]:
        cells = [
            f"{_fmt(s['mean_percent'])} [{_fmt(s['ci_low_percent'])}, {_fmt(s['ci_high_percent'])}]"
            for s in (model["summary"][m["name"]] for m in metrics)
        ]
        name = model["name"] + (" (baseline)" if model["is_baseline"] and model["name"] != "baseline" else "")
        lines.append(f"| {name} | {model['decoding_text']} | " + " | ".join(cells) + " |")
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


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _clean(obj: Any) -> Any:
    # JSON has no Infinity / NaN: write them as null
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def run_aggregation(args: EvalArguments) -> dict:
    runs = [json.loads(Path(p).read_text()) for p in args.runs]
    modes = sorted({r.get("pattern_mode", "?") for r in runs})
    if len(modes) > 1:
        raise ValueError(f"--runs mixes pattern modes {modes}: aggregate runs of one mode at a time")
    hashes = {r.get("dataset", {}).get("dataset_sha256") for r in runs}
    if len(hashes) > 1:
        logger.warning("the runs were evaluated on %d different test sets (dataset_sha256 differs)", len(hashes))
    agg = aggregate_runs(runs)
    agg["files"] = list(args.runs)
    agg["pattern_mode"] = modes[0]
    agg["upper_bound"] = modes[0] == "oracle"
    agg["same_test_set"] = len(hashes) == 1
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "runs_summary.json").write_text(json.dumps(_clean(agg), indent=2, default=_json_default) + "\n")
    lines = [
        f"## Results over {agg['n_runs']} training seeds (mean ± sd over seeds)",
        "",
        f"Patterns: **{PATTERN_MODE_LABELS.get(modes[0], modes[0])}**"
        + ("" if agg["same_test_set"] else "; WARNING: the runs used different test sets")
        + ".",
        "",
        "| Model | Metric | Mean (%) | Δ to baseline (pp) | d_z | Significant runs |",
        "|---|---|---|---|---|---|",
    ]
    for name, per_metric in agg["models"].items():
        for metric, s in per_metric.items():

            def ms(d: dict) -> str:
                return "–" if d["mean"] is None else f"{d['mean']:.1f} ± {d['sd']:.1f}"

            sig = f"{s['n_significant']}/{s['n_compared']}" if s["n_compared"] else "–"
            lines.append(
                f"| {name} | {metric} | {ms(s['mean_percent'])} | {ms(s['mean_diff_percent'])} | "
                f"{ms(s['cohens_dz'])} | {sig} |"
            )
    (out / "runs_summary.md").write_text("\n".join(lines) + "\n")
    return agg


def main(argv: Sequence[str] | None = None) -> dict:
    # 1. parse
    parser = HfArgumentParser(EvalArguments)
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 1 and argv[0].endswith((".yaml", ".yml")):
        (args,) = parser.parse_yaml_file(argv[0])
    else:
        (args,) = parser.parse_args_into_dataclasses(args=argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    if args.runs:
        return run_aggregation(args)

    # 2. accelerator, data, models
    accelerator = Accelerator()
    specs = parse_model_specs(args.models, base=decoding_from(args))
    examples = load_examples(args)
    logger.info(
        "%d examples, patterns %s, %d models", len(examples), args.pattern_mode, len(specs), main_process_only=True
    )

    # 3. generate + score (sharded), then statistics and outputs on the main process
    rows, seconds = generate_all(args, specs, examples, accelerator)
    if not accelerator.is_main_process:
        return {}
    summary = summarize(args, specs, rows)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = {
        "config": dataclasses.asdict(args),
        "pattern_mode": args.pattern_mode,
        "pattern_mode_label": PATTERN_MODE_LABELS[args.pattern_mode],
        "upper_bound": args.pattern_mode == "oracle",
        "dataset": {
            "source": args.test_file or f"k8s_data.load_k8s_intents(seed={args.data_seed})[{args.split!r}]",
            "n_examples": len(examples),
            **dataset_hashes(examples),
        },
        "models_evaluated": {s.name: s.path for s in specs},
        "best_of_n_selector": resolve_pick_best()[1],
        "statistics": {
            "wilcoxon_zero_method": WILCOXON_ZERO_METHOD,
            "ci": "paired BCa bootstrap",
            "n_resamples": args.n_resamples,
            "multiplicity": "Holm across the metric family of each model-vs-baseline comparison",
            "binary_metrics_test": "exact McNemar (two-sided binomial on discordant pairs)",
            "targets": TARGETS,
        },
        "num_processes": accelerator.num_processes,
        "device": str(accelerator.device),
        "seconds_per_model": seconds,
        "summary": summary,
    }
    write_per_example(out, examples, rows, [m["name"] for m in summary["metrics"]], args.pattern_mode)
    results["plots"] = {k: str(v) for k, v in write_plots(out, results, rows).items()}
    results = _clean(results)
    (out / RESULTS_FILE).write_text(json.dumps(results, indent=2, default=_json_default) + "\n")
    (out / "results.md").write_text(render_markdown(results))
    logger.info("wrote %s", out / RESULTS_FILE)
    print(render_markdown(results))
    return results


if __name__ == "__main__":
    main()
