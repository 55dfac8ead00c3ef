"""The main job in one command: tokenizer -> SFT baseline -> SFT dual -> RL dual -> evaluation.

The logic of `run_pipeline.py` (a thin entry point) and `dual-codet5 pipeline`. The training and evaluation stages
run the repository's scripts (`train_sft.py`, `train_rl.py`, `evaluate_models.py`) as subprocesses by file name from
the repository root, so this module imports none of them, and each stage's memory is freed before the next.

Copy-paste commands (repository root)::

    # the whole recipe on a laptop / CI-sized CPU (<= 15 minutes on 2 cores; a demo, not a result)
    python run_pipeline.py --preset cpu-demo --output_dir runs/cpu_demo

    # the real run on one GPU (bf16); a T4 or several GPUs: pick the accelerate config
    python run_pipeline.py --preset gpu --output_dir runs/gpu
    python run_pipeline.py --preset gpu --output_dir runs/gpu --accelerate_config configs/accelerate/t4_fp16.yaml

    # re-running the same command skips finished stages (their final/ folder exists); --force redoes them
    python run_pipeline.py --preset cpu-demo --output_dir runs/cpu_demo --stages evaluate --force

Stages and their outputs under ``--output_dir``:

1. ``tokenizer/``: byte-level BPE trained on the TRAIN split (intents, patterns, YAML), shared by all models;
   (optional, config ``pretrain: true``) ``pretrain_baseline/``, ``pretrain_dual/``: ``train_sft.py --objective
   span_corruption`` (T5-style denoising of the train YAML); the SFT stages then start from their ``final/``;
2. ``sft_baseline/``: ``train_sft.py --model_type baseline`` (a plain T5 of the same size, one input);
3. ``sft_dual/``: ``train_sft.py`` (dual encoder);
4. ``rl_dual/``: ``train_rl.py --init_from sft_dual/final``;
5. ``eval/``: ``evaluate_models.py --models baseline=... sft_dual=... rl_dual=... retrieval=bm25`` (statistics, plots,
   tables); the retrieval row (the YAML of the nearest train intent, no model) is always there: the baseline to
   beat, and each model is also reported with the retrieval fallback (``NAME+fallback``).

``pipeline_timings.json`` records the wall time of every stage. Each training stage runs as its own process
(``python script`` or ``accelerate launch --config_file ... script``), so a stage's memory is freed before the next.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import yaml

logger = logging.getLogger(__name__)

# The repository checkout this package lives in: the presets (configs/) and the stage scripts are read from there.
REPO = Path(__file__).resolve().parents[1]
PRESETS = {
    "cpu": "configs/pipeline_cpu.yaml",
    "cpu-demo": "configs/pipeline_cpu_demo.yaml",
    "gpu": "configs/pipeline_gpu.yaml",
}
STAGES = (
    "tokenizer", "pretrain_baseline", "pretrain_dual", "sft_baseline", "sft_dual", "rl_dual", "sft_t5", "evaluate",
    "pairwise", "curve", "aggregate",
)  # fmt: skip
# `baseline_type` of a pipeline config: the single-encoder baseline's `train_sft.py --model_type`
BASELINE_TYPES = {"t5": "baseline", "single": "single"}
# The evaluation's retrieval system (evaluate_models.py reserves this name): same as `--models retrieval=bm25`.
RETRIEVAL_NAME, RETRIEVAL_METHOD = "retrieval", "bm25"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The pipeline's flags (`python run_pipeline.py --help`)."""
    parser = argparse.ArgumentParser(prog="run_pipeline.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu", help="Pipeline preset.")
    parser.add_argument("--config", help="A pipeline YAML instead of a preset (same keys as configs/pipeline_*.yaml).")
    parser.add_argument("--output_dir", required=True, help="Where every stage writes.")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES), help="Stages to run.")
    parser.add_argument("--force", action="store_true", help="Redo stages whose outputs already exist.")
    parser.add_argument("--accelerate_config", help="Override the preset's accelerate config (training stages).")
    parser.add_argument("--dry_run", action="store_true", help="Print the commands without running them.")
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        help="Training seeds: each seed trains and evaluates its own models under OUTPUT_DIR/seed{S}/ (one shared "
        "tokenizer), then the `aggregate` stage summarises the runs (mean +- sd, how often each difference is "
        "significant). Default: the config's `seeds`, else one run in OUTPUT_DIR with the training configs' seed.",
    )
    return parser.parse_args(argv)


def load_pipeline_config(args: argparse.Namespace) -> dict:
    """The preset (or `--config`) YAML as a dict, with `--accelerate_config` applied."""
    path = Path(args.config or REPO / PRESETS[args.preset])
    with open(path, encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    if args.accelerate_config:
        config["accelerate_config"] = args.accelerate_config
    return config


def launcher(config: dict) -> list[str]:
    """``python`` or ``accelerate launch --config_file X`` for the training stages."""
    if config.get("accelerate_config"):
        return [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config["accelerate_config"])]
    return [sys.executable]


def run(cmd: list[str], dry_run: bool, env: dict[str, str]) -> float:
    """Run a command from the repository root with extra environment ``env``; returns its wall time in seconds."""
    print("$ " + " ".join(f"{k}={v}" for k, v in env.items()) + (" " if env else "") + shlex.join(cmd), flush=True)
    if dry_run:
        return 0.0
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, env={**os.environ, "TOKENIZERS_PARALLELISM": "false", **env})
    return time.perf_counter() - t0


def train_tokenizer_stage(config: dict, folder: Path) -> None:
    """Byte-level BPE on the bundled corpus' TRAIN split (the data the models train on; never val/test)."""
    from dual_codet5.train_utils import tokenizer_training_texts
    from k8s_data import load_k8s_intents, train_tokenizer

    dsd = load_k8s_intents(pattern_mode=config.get("pattern_mode", "retrieved"))
    tokenizer = train_tokenizer(tokenizer_training_texts(dsd), vocab_size=int(config["tokenizer_vocab_size"]))
    tokenizer.save_pretrained(folder)


def stage_commands(config: dict, out: Path, tok_dir: Path, seed: int | None) -> dict[str, list[str]]:
    """The command of every training / evaluation stage of one run (one seed) writing under `out`."""
    seed_args = ["--seed", str(seed)] if seed is not None else []
    baseline_type = config.get("baseline_type", "t5")
    if baseline_type not in BASELINE_TYPES:
        raise ValueError(f"baseline_type must be one of {sorted(BASELINE_TYPES)}, got {baseline_type!r}")
    stages = ("pretrain_baseline", "pretrain_dual", "sft_baseline", "sft_dual", "rl_dual", "sft_t5")
    final = {name: out / name / "final" for name in stages}

    def sft(stage: str, model_type: str, extra: list[str]) -> list[str]:
        return [*launcher(config), "train_sft.py", config["sft_config"], "--model_type", model_type,
                "--tokenizer_name_or_path", str(tok_dir), "--output_dir", str(out / stage),
                *map(str, config.get("sft_args", [])), *map(str, extra), *seed_args]  # fmt: skip

    commands: dict[str, list[str]] = {}
    init = {"sft_baseline": [], "sft_dual": []}
    if config.get("pretrain"):
        # T5-style span corruption of the train YAML first (dual_codet5.span_corruption), each model its own;
        # `pretrain_args` come after `sft_args`, so they can set the pre-training's steps
        pretrain = ["--objective", "span_corruption", *map(str, config.get("pretrain_args", []))]
        commands["pretrain_baseline"] = sft("pretrain_baseline", BASELINE_TYPES[baseline_type], pretrain)
        commands["pretrain_dual"] = sft("pretrain_dual", "dual", pretrain)
        init = {f"sft_{m}": ["--init_from", str(final[f"pretrain_{m}"])] for m in ("baseline", "dual")}
    commands |= {
        "sft_baseline": sft("sft_baseline", BASELINE_TYPES[baseline_type],
                            [*config.get("baseline_args", []), *init["sft_baseline"]]),
        "sft_dual": sft("sft_dual", "dual", init["sft_dual"]),
        "rl_dual": [*launcher(config), "train_rl.py", config["rl_config"], "--init_from", str(final["sft_dual"]),
                    "--output_dir", str(out / "rl_dual"), *map(str, config.get("rl_args", [])), *seed_args],
    }  # fmt: skip
    if config.get("reference_t5"):
        # plain HF T5 (no copying) as a reference row next to a copying single-encoder baseline
        commands["sft_t5"] = sft("sft_t5", "baseline", config.get("t5_args", []))
    baseline_name = "single" if baseline_type == "single" else "baseline"
    models = [f"{baseline_name}={final['sft_baseline']}", f"sft_dual={final['sft_dual']}",
              f"rl_dual={final['rl_dual']}"]  # fmt: skip
    if "sft_t5" in commands:
        models.append(f"t5={final['sft_t5']}")
    retrieval = [f"{RETRIEVAL_NAME}={RETRIEVAL_METHOD}"]
    if config.get("retrieval_adapt"):
        # retrieval's manifest adapted to the intent (k8s_data.adapt): the strongest simple baseline, shown as a row
        retrieval.append(f"{RETRIEVAL_NAME}_adapt={RETRIEVAL_METHOD}+adapt")
    # the first entry is what every other row is tested against: retrieval when the preset says it is the bar
    models = [*retrieval, *models] if config.get("retrieval_first") else [*models, *retrieval]
    commands["evaluate"] = [sys.executable, "evaluate_models.py", "--models", *models, "--output_dir",
                            str(out / "eval"), *map(str, config.get("evaluate_args", []))]  # fmt: skip
    if config.get("pairwise"):
        # model against model (and against the adapted retrieval): evaluate_models tests every row only against
        # the first
        commands["pairwise"] = [sys.executable, "-m", "dual_codet5.pairwise", str(out / "eval" / "per_example.jsonl"),
                                "--pairs", *map(str, config["pairwise"]),
                                "--output", str(out / "eval" / "pairwise.md")]  # fmt: skip
    if config.get("curve"):
        commands["curve"] = [sys.executable, "-m", "dual_codet5.learning_curve", "--runs",
                             f"{baseline_name}={out / 'sft_baseline'}", f"sft_dual={out / 'sft_dual'}",
                             "--output_dir", str(out / "curve"), *map(str, config.get("curve_args", []))]  # fmt: skip
    return commands


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the stages asked for (skipping finished ones); returns the wall time of each stage in seconds."""
    args = parse_args(argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    config = load_pipeline_config(args)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings_path = out / "pipeline_timings.json"
    timings: dict[str, float] = json.loads(timings_path.read_text()) if timings_path.exists() else {}

    # e.g. OMP_NUM_THREADS=1 for the CPU demo: small models run several times faster on one thread than on two
    # threads that compete with other processes for two cores (measured: 13.5 s vs 58 s for 60 SFT steps)
    env = {str(k): str(v) for k, v in (config.get("env") or {}).items()}
    tok_dir = out / "tokenizer"
    seeds = args.seeds or config.get("seeds") or [None]
    runs = {seed: (out / f"seed{seed}" if len(seeds) > 1 else out) for seed in seeds}
    commands = {seed: stage_commands(config, run_dir, tok_dir, seed) for seed, run_dir in runs.items()}
    results_files = [run_dir / "eval" / "phase2_final_results.json" for run_dir in runs.values()]

    def marker(stage: str, run_dir: Path) -> Path:
        return {
            "tokenizer": tok_dir / "tokenizer.json",
            "evaluate": run_dir / "eval" / "phase2_final_results.json",
            "pairwise": run_dir / "eval" / "pairwise.md",
            "curve": run_dir / "curve" / "learning_curve.json",
            "aggregate": out / "eval_seeds" / "runs_summary.json",
        }.get(stage, run_dir / stage / "final" / "config.json")

    def record(stage: str, seconds: float) -> None:
        timings[stage] = round(seconds, 1)
        if not args.dry_run:
            timings_path.write_text(json.dumps(timings, indent=2))

    t_all = time.perf_counter()
    for stage in args.stages:
        if stage == "tokenizer":
            if marker(stage, out).exists() and not args.force:
                print(f"[{stage}] done already, skipping (use --force to redo)", flush=True)
                continue
            print(f"[{stage}] starting", flush=True)
            t0 = time.perf_counter()
            if not args.dry_run:
                train_tokenizer_stage(config, tok_dir)
            record(stage, time.perf_counter() - t0)
            continue
        if stage == "aggregate":
            if len(seeds) > 1 and (args.force or not marker(stage, out).exists()):
                cmd = [sys.executable, "evaluate_models.py", "--runs", *map(str, results_files),
                       "--output_dir", str(out / "eval_seeds")]  # fmt: skip
                record(stage, run(cmd, args.dry_run, env))
            continue
        for seed, run_dir in runs.items():
            if stage not in commands[seed]:
                continue  # an optional stage this config does not ask for
            label = stage if seed is None or len(seeds) == 1 else f"seed{seed}/{stage}"
            if marker(stage, run_dir).exists() and not args.force:
                print(f"[{label}] done already, skipping (use --force to redo)", flush=True)
                continue
            print(f"[{label}] starting", flush=True)
            record(label, run(commands[seed][stage], args.dry_run, env))
    record("total_this_invocation", time.perf_counter() - t_all)
    print(json.dumps(timings, indent=2))
    summaries = [out / "eval_seeds" / "runs_summary.md"]
    summaries += [r.parent / name for r in results_files for name in ("results.md", "pairwise.md")]
    for path in summaries:
        if path.exists():
            print(path.read_text())
    return timings
