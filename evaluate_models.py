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

import dataclasses
import gc
import hashlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.utils import gather_object
from transformers import HfArgumentParser, set_seed

from dual_codet5.generate import SOURCE_RETRIEVAL_FALLBACK, select_and_repair
from dual_codet5.inference import generate_yaml, load_for_inference
from dual_codet5.reporting import (
    PATTERN_MODE_LABELS,
    aggregate_result_files,
    clean_json,
    json_default,
    render_markdown,
    summarize,
    write_per_example,
    write_plots,
)
from dual_codet5.stats import TARGETS, WILCOXON_ZERO_METHOD

logger = get_logger(__name__)

PATTERN_MODES = tuple(PATTERN_MODE_LABELS)
# Decoding fields a model entry may override with `name=path@key=value,...`.
DECODING_FIELDS = (
    "num_beams", "do_sample", "temperature", "top_p", "best_of_n", "repair", "max_new_tokens", "lookup_bonus",
)
RESULTS_FILE = "phase2_final_results.json"
# `--models retrieval=bm25`: a reserved name for the retrieval system (no model: each intent is answered with the YAML
# of the nearest train intent, `k8s_data.retrieve_manifest`), scored like any model. `bm25+adapt`: that manifest
# adapted to the intent (`k8s_data.adapt`); any name starting with `retrieval` may hold a method, e.g.
# `retrieval_adapt=bm25+adapt`.
RETRIEVAL_NAME = "retrieval"
RETRIEVAL_METHODS = ("bm25", "bm25+adapt")
ADAPT_SUFFIX = "+adapt"
# `NAME+fallback`: a model whose output is replaced by the retrieved manifest when no candidate is schema-valid.
FALLBACK_SUFFIX = "+fallback"


@dataclass
class EvalArguments:
    """Arguments of `evaluate_models.py` (flags, or one YAML file with these keys)."""

    models: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Models as NAME=PATH (a save_pretrained folder or Hub id); the FIRST is the baseline. A suffix "
            "@key=value,... overrides the decoding of that entry (keys: " + ", ".join(DECODING_FIELDS) + "). "
            f"`{RETRIEVAL_NAME}=bm25` (a reserved name) adds the retrieval system: the YAML of the nearest train "
            f"intent, no model; `{RETRIEVAL_NAME}_adapt=bm25+adapt` adds that YAML adapted to the intent "
            "(k8s_data.adapt)."
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
    lookup_bonus: float = field(
        default=0.0,
        metadata={
            "help": "Exemplar lookup (dual_codet5.lookup): nats added to the pattern token the output is aligned "
            "to; for models trained on exemplar patterns; 0 = off."
        },
    )
    dtype: str | None = field(default=None, metadata={"help": "Weight dtype for generation, e.g. bfloat16 on GPU."})
    seed: int = field(default=0, metadata={"help": "Seed for sampling and for the bootstrap."})
    n_resamples: int = field(default=9999, metadata={"help": "Bootstrap resamples for every CI."})
    confidence_level: float = field(default=0.95, metadata={"help": "Level of the CIs and of the target bounds."})
    alpha: float = field(default=0.05, metadata={"help": "Significance level after Holm correction."})
    fallback_rows: bool = field(
        default=True,
        metadata={
            "help": f"Also report every model as NAME{FALLBACK_SUFFIX}: its output replaced by the retrieved manifest "
            "(k8s_data.retrieve_manifest with the model's own pattern bank) when no candidate is schema-valid, as "
            "`dual-codet5 generate --fallback retrieval` does. Costs no generation, only scoring."
        },
    )

    def __post_init__(self):
        if not self.models and not self.runs:
            raise ValueError("give --models NAME=PATH ... (first = baseline) or --runs RESULTS.json ...")
        if self.models and self.runs:
            raise ValueError("--models evaluates, --runs aggregates earlier evaluations: give one of them")
        if self.pattern_mode not in PATTERN_MODES:
            raise ValueError(f"--pattern_mode must be one of {PATTERN_MODES}, got {self.pattern_mode!r}")
        if self.models:
            specs = with_fallback_rows(parse_model_specs(self.models, base=decoding_from(self)), self.fallback_rows)
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
    lookup_bonus: float = 0.0

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
        return (
            self.num_beams, self.do_sample, self.temperature, self.top_p, self.best_of_n, self.max_new_tokens,
            self.lookup_bonus,
        )  # fmt: skip

    def describe(self) -> str:
        search = f"sample(T={self.temperature}, top_p={self.top_p})" if self.do_sample else "beam"
        text = f"{search}, beams={self.num_beams}, max_new_tokens={self.max_new_tokens}"
        if self.lookup_bonus:
            text += f", exemplar lookup {self.lookup_bonus:g}"
        if self.best_of_n > 1:
            text += f", best-of-{self.best_of_n} by quality"
        if self.repair:
            text += ", + repair (safe)"
        return text


@dataclass(frozen=True)
class ModelSpec:
    """One evaluated entry: a name, a model folder (or the retrieval method), its decoding.

    Args:
        name: the row's name; `retrieval` is the retrieval system.
        path: a model folder or Hub id; for the retrieval system the method (`bm25`).
        decoding: how candidates are drawn, chosen and repaired.
        fallback: the `NAME+fallback` row of a model (see `with_fallback_rows`).
    """

    name: str
    path: str
    decoding: Decoding
    fallback: bool = False

    @property
    def is_retrieval(self) -> bool:
        return self.name.startswith(RETRIEVAL_NAME) and self.path in RETRIEVAL_METHODS

    @property
    def adapt(self) -> bool:
        """A retrieval system whose answer is adapted to the intent (`bm25+adapt`)."""
        return self.is_retrieval and self.path.endswith(ADAPT_SUFFIX)

    @property
    def system(self) -> str:
        """`retrieval`, `model` or `model+fallback`."""
        return RETRIEVAL_NAME if self.is_retrieval else "model+fallback" if self.fallback else "model"

    def describe(self) -> str:
        if self.is_retrieval:
            text = f"{self.path.split('+')[0].upper()} retrieval: the YAML of the nearest train intent"
            text += ", adapted to the intent (k8s_data.adapt), no model" if self.adapt else ", no model"
            return text + (", + repair (safe)" if self.decoding.repair else "")
        text = self.decoding.describe()
        return text + (", + retrieval fallback when no candidate is schema-valid" if self.fallback else "")

    def entry(self) -> dict[str, Any]:
        """What `dual_codet5.reporting.summarize` records about this entry."""
        return {
            "name": self.name,
            "path": self.path,
            "system": self.system,
            "decoding": dataclasses.asdict(self.decoding),
            "decoding_text": self.describe(),
        }


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
        if name.endswith(FALLBACK_SUFFIX):
            raise ValueError(f"{entry!r}: names ending in {FALLBACK_SUFFIX!r} are reserved for the fallback rows")
        if name == RETRIEVAL_NAME and path not in RETRIEVAL_METHODS:
            raise ValueError(
                f"{entry!r}: {RETRIEVAL_NAME!r} is reserved for the retrieval system; give "
                f"{RETRIEVAL_NAME}={'|'.join(RETRIEVAL_METHODS)}, or another name for a model"
            )
        if name.startswith(RETRIEVAL_NAME) and path in RETRIEVAL_METHODS and any(k != "repair" for k in changes):
            raise ValueError(f"{entry!r}: the retrieval system generates nothing; only @repair=... applies")
        specs.append(ModelSpec(name=name, path=path, decoding=dataclasses.replace(base, **changes)))
    return specs


def with_fallback_rows(specs: Sequence[ModelSpec], enabled: bool = True) -> list[ModelSpec]:
    """`specs` with a `NAME+fallback` entry after every model (not after the retrieval system) when `enabled`."""
    out: list[ModelSpec] = []
    for spec in specs:
        out.append(spec)
        if enabled and not spec.is_retrieval and not spec.fallback:
            out.append(dataclasses.replace(spec, name=spec.name + FALLBACK_SUFFIX, fallback=True))
    return out


# ----------------------------------------------------------------------------------------------------- test data
def _read_records(path: Path) -> list[dict]:
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    if isinstance(data, dict):  # {"data": [...]} or {"test": [...]}
        data = next(v for v in data.values() if isinstance(v, list))
    return list(data)


def _our_dataset(data_seed: int) -> Any:
    from k8s_data import load_k8s_intents

    return load_k8s_intents(seed=data_seed)


def load_examples(args: EvalArguments) -> list[dict]:
    """Test examples as dicts with `id`, `intent` and `yaml` (the reference); patterns are per model."""
    if args.test_file:
        path = Path(args.test_file)
        records = _read_records(path)
        missing = [i for i, r in enumerate(records) if "intent" not in r or "yaml" not in r]
        if missing:
            raise ValueError(f"{path}: records {missing[:5]} lack `intent` or `yaml`")
        examples = [
            {"id": str(r.get("id", f"{path.stem}-{i}")), "intent": r["intent"], "yaml": r["yaml"]}
            for i, r in enumerate(records)
        ]
    else:
        split = _our_dataset(args.data_seed)[args.split]
        examples = [{"id": str(r["id"]), "intent": r["intent"], "yaml": r["yaml"]} for r in split]
    if args.max_examples is not None:
        examples = examples[: args.max_examples]
    if not examples:
        raise ValueError("no test examples")
    return examples


def dataset_hashes(examples: Sequence[dict]) -> dict[str, str]:
    """SHA-256 of the examples (id, intent, reference)."""
    payload = json.dumps([[ex[k] for k in ("id", "intent", "yaml")] for ex in examples], ensure_ascii=False)
    return {"dataset_sha256": hashlib.sha256(payload.encode()).hexdigest()}


def inputs_hash(examples: Sequence[dict], patterns: Sequence[str]) -> str:
    """SHA-256 of what a model reads: (id, intent, pattern) per example."""
    payload = json.dumps([[ex["id"], ex["intent"], p] for ex, p in zip(examples, patterns)], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


# -------------------------------------------------------------------------------------------- patterns and retrieval
def patterns_for(pattern_mode: str, examples: Sequence[dict], bank: Any, config: Any) -> list[str]:
    """The pattern each example's intent gets, for a model trained with retrieval `config` and pattern bank `bank`.

    `retrieved`: `bank.pattern_for(intent, config)` (skeleton or exemplar, as the model was trained); `oracle`
    (an UPPER BOUND): from the reference itself, its skeleton (`k8s_data.extract_pattern`) or, for a model trained on
    exemplars, the reference YAML; `none`: empty.
    """
    if pattern_mode == "none":
        return [""] * len(examples)
    if pattern_mode == "oracle":
        if getattr(config, "pattern_format", "skeleton") == "exemplar":
            return [ex["yaml"] for ex in examples]
        from k8s_data import extract_pattern

        return [extract_pattern(ex["yaml"]) for ex in examples]
    return [bank.pattern_for(ex["intent"], config) for ex in examples]


def check_no_leak(bank: Any, examples: Sequence[dict], owner: str) -> None:
    """Refuse a pattern bank that holds test examples (it was built from another split or data seed): retrieval
    would hand the model, or be, the answer."""
    bank_ids = {str(entry.id) for entry in getattr(bank, "entries", ())}
    leaked = sorted(bank_ids & {ex["id"] for ex in examples})
    if leaked:
        raise ValueError(
            f"the pattern bank of {owner} holds {len(leaked)} of the test examples (e.g. {leaked[:3]}): it was built "
            "from other data or another --data_seed than this evaluation; evaluate with the data it was trained on"
        )


def evaluation_bank(args: EvalArguments) -> Any:
    """The pattern bank of the evaluation's own train split, which the retrieval system retrieves from: for our
    dataset the bank `load_k8s_intents(seed=--data_seed)` retrieves from, for a `--test_file` the bundled corpus'
    default bank (the file must not overlap its train split)."""
    from k8s_data import default_pattern_bank, pattern_bank_for

    if args.test_file:
        return default_pattern_bank()
    return pattern_bank_for(None, args.data_seed)


class _Retriever:
    """`k8s_data.retrieve_manifest` with a cache per (bank, intent, adapt): the fallback rows and the retrieval
    system ask for the same manifests."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str, bool], str] = {}
        self._banks: dict[int, Any] = {}  # held, so that no later bank can reuse a cached bank's id()

    def __call__(self, intent: str, bank: Any, adapt: bool = False) -> str:
        from k8s_data import RetrievalConfig, retrieve_manifest

        self._banks[id(bank)] = bank
        key = (id(bank), intent, adapt)
        if key not in self._cache:
            self._cache[key] = retrieve_manifest(intent, bank, RetrievalConfig(adapt_exemplar=adapt))
        return self._cache[key]


# ------------------------------------------------------------------------------------------- selection and repair
def finalize_outputs(candidates: Sequence[list[str]], decoding: Decoding) -> list[dict]:
    """Repair (optionally) and choose one candidate per example with `dual_codet5.generate.select_and_repair`, the
    step `dual-codet5 generate` runs, so evaluation scores exactly what users get.

    Returns:
        per-example dicts with `prediction` (chosen, repaired when asked), `raw_prediction` (the chosen candidate as
        the model wrote it), `n_candidates`, `chosen_candidate`, `n_repairs`, `repaired_checks` (check ids) and
        `chosen_schema_valid` (False means no candidate is schema-valid).
    """
    rows = []
    for raw_cands in candidates:
        selection = select_and_repair(raw_cands, repair=decoding.repair)
        checks = [getattr(change, "check_id", str(change)) for change in selection.changes[selection.index]]
        rows.append(
            {
                "prediction": selection.text,
                "raw_prediction": selection.raw_texts[selection.index],
                "n_candidates": len(selection.texts),
                "chosen_candidate": selection.index,
                "n_repairs": len(checks),
                "repaired_checks": checks,
                "chosen_schema_valid": selection.schema_valid,
            }
        )
    return rows


# ------------------------------------------------------------------------------------------------------ evaluation
def _with_fallback(
    rows: list[dict], shard_examples: Sequence[dict], bank: Any, retrieve: _Retriever, repair: bool, adapt: bool
):
    """Copies of a model's rows where every example without a schema-valid candidate gets the retrieved manifest
    (adapted when the model's retrieval settings adapt exemplars; repaired too when the entry repairs), as
    `generate_manifest(..., fallback="retrieval")` does."""
    out = []
    for ex, row in zip(shard_examples, rows):
        row = {**row, "repaired_checks": list(row["repaired_checks"])}
        if not row["chosen_schema_valid"]:
            (fallback,) = finalize_outputs([[retrieve(ex["intent"], bank, adapt)]], Decoding(repair=repair))
            row.update(
                prediction=fallback["prediction"],
                raw_prediction=fallback["raw_prediction"],
                n_repairs=fallback["n_repairs"],
                repaired_checks=fallback["repaired_checks"],
                source=SOURCE_RETRIEVAL_FALLBACK,
            )
        out.append(row)
    return out


def generate_all(
    args: EvalArguments, specs: Sequence[ModelSpec], examples: Sequence[dict], accelerator: Accelerator
) -> tuple[dict[str, list[dict]], dict[str, dict[str, float]], dict[str, str]]:
    """Generate, select, repair and score every example for every entry (models, fallback rows, retrieval).

    Each process works on its shard of the examples; the rows are gathered on every process. A model's patterns come
    from the pattern bank and retrieval settings saved in its folder (`k8s_data.load_retrieval`).

    Returns:
        `(rows, seconds, inputs)`: name → per-example rows in example order (names in `specs` order); name →
        `{"generate": s, "select_repair_score": s}` wall times on the main process's shard (`generate` is 0 for a
        variant that reuses another entry's candidates); name → `inputs_hash` of what it read.
    """
    from k8s_scoring import score

    indices = list(range(len(examples)))
    results: dict[str, list[dict]] = {}
    timings: dict[str, dict[str, float]] = {}
    inputs: dict[str, str] = {}
    scored: dict[tuple[int, str], dict[str, float]] = {}  # (example index, prediction) -> scores: rows share outputs
    retrieve = _Retriever()

    def finish(spec: ModelSpec, rows: list[dict], shard: Sequence[int], start: float, generated_at: float) -> None:
        for i, row in zip(shard, rows):
            ex = examples[i]
            row.update({"index": i, "id": ex["id"], "model": spec.name})
            row.setdefault("source", "model")
            row["fallback_used"] = row["source"] == SOURCE_RETRIEVAL_FALLBACK
            key = (i, row["prediction"])
            if key not in scored:
                scored[key] = {k: float(v) for k, v in score(row["prediction"], ex["yaml"]).items()}
            row.update(scored[key])
        done = time.perf_counter()
        timings[spec.name] = {"generate": generated_at - start, "select_repair_score": done - generated_at}
        results[spec.name] = sorted(gather_object(rows), key=lambda r: r["index"])
        inputs[spec.name] = inputs_hash(examples, [r["pattern"] for r in results[spec.name]])
        logger.info("%s: %d examples done", spec.name, len(results[spec.name]), main_process_only=True)

    by_path: dict[str, list[ModelSpec]] = {}
    for spec in specs:
        by_path.setdefault(spec.path, []).append(spec)
    for path, group in by_path.items():
        if all(spec.is_retrieval for spec in group):
            bank = evaluation_bank(args)
            check_no_leak(bank, examples, "the retrieval system")
            with accelerator.split_between_processes(indices) as shard:
                for spec in group:
                    start = time.perf_counter()
                    texts = [[retrieve(examples[i]["intent"], bank, spec.adapt)] for i in shard]
                    generated_at = time.perf_counter()
                    rows = finalize_outputs(texts, spec.decoding)
                    for row in rows:
                        row.update(pattern="", source=RETRIEVAL_NAME)
                    finish(spec, rows, shard, start, generated_at)
            continue
        loaded = load_for_inference(path, device=accelerator.device, dtype=args.dtype)
        bank, config = loaded.retrieval
        if args.pattern_mode == "retrieved" or any(spec.fallback for spec in group):
            check_no_leak(bank, examples, path)
        generated: dict[tuple, list[list[str]]] = {}
        finalized: dict[tuple, list[dict]] = {}
        with accelerator.split_between_processes(indices) as shard:
            shard_examples = [examples[i] for i in shard]
            patterns = patterns_for(args.pattern_mode, shard_examples, bank, config)
            for spec in group:
                dec = spec.decoding
                key = dec.generation_key()
                start = time.perf_counter()
                if key not in generated:  # variants differing only in repair or fallback share their candidates
                    set_seed(args.seed)
                    gen_kwargs = {"temperature": dec.temperature, "top_p": dec.top_p} if dec.do_sample else {}
                    generated[key] = generate_yaml(
                        loaded,
                        [ex["intent"] for ex in shard_examples],
                        patterns,
                        batch_size=args.batch_size,
                        max_new_tokens=dec.max_new_tokens,
                        num_beams=dec.num_beams,
                        do_sample=dec.do_sample,
                        num_return_sequences=dec.best_of_n,
                        max_source_length=args.max_source_length,
                        max_pattern_length=args.max_pattern_length,
                        lookup_bonus=dec.lookup_bonus,
                        **gen_kwargs,
                    )
                generated_at = time.perf_counter()
                if (key, dec.repair) not in finalized:
                    finalized[(key, dec.repair)] = finalize_outputs(generated[key], dec)
                rows = [{**row, "pattern": p} for row, p in zip(finalized[(key, dec.repair)], patterns)]
                if spec.fallback:
                    rows = _with_fallback(rows, shard_examples, bank, retrieve, dec.repair, config.adapt_exemplar)
                finish(spec, rows, shard, start, generated_at)
        del loaded
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    for name, rows in results.items():
        for row in rows:
            row.pop("index", None)
        logger.info("%s: %s s on the main process shard", name, timings[name], main_process_only=True)
    return {s.name: results[s.name] for s in specs}, timings, inputs


def entry_with_fallback_rate(spec: ModelSpec, rows: Sequence[dict]) -> dict[str, Any]:
    """`spec.entry()`, plus for a fallback row how often the retrieved manifest stood in (`fallback_rate`, 0-1)."""
    entry = spec.entry()
    if spec.fallback:
        rate = sum(bool(r["fallback_used"]) for r in rows) / max(len(rows), 1)
        entry["fallback_rate"] = rate
        entry["decoding_text"] += f" (used for {100 * rate:.1f} % of examples)"
    return entry


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
        return aggregate_result_files(args.runs, args.output_dir, alpha=args.alpha)

    # 2. accelerator, data, models
    accelerator = Accelerator()
    specs = with_fallback_rows(parse_model_specs(args.models, base=decoding_from(args)), args.fallback_rows)
    examples = load_examples(args)
    logger.info(
        "%d examples, patterns %s, %d models", len(examples), args.pattern_mode, len(specs), main_process_only=True
    )

    # 3. generate + score (sharded), then statistics and outputs on the main process
    rows, seconds, inputs = generate_all(args, specs, examples, accelerator)
    if not accelerator.is_main_process:
        return {}
    summary = summarize(
        [entry_with_fallback_rate(spec, rows[spec.name]) for spec in specs],
        rows,
        confidence_level=args.confidence_level,
        n_resamples=args.n_resamples,
        seed=args.seed,
    )
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
        "inputs_sha256": inputs,
        "best_of_n_selector": "dual_codet5.generate.select_and_repair (repair, then pick_best)",
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
    results = clean_json(results)
    (out / RESULTS_FILE).write_text(json.dumps(results, indent=2, default=json_default) + "\n")
    (out / "results.md").write_text(render_markdown(results))
    logger.info("wrote %s", out / RESULTS_FILE)
    print(render_markdown(results))
    return results


if __name__ == "__main__":
    main()
