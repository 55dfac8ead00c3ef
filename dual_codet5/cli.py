"""`dual-codet5`: the command line. `generate` turns intents into checked manifests; `pipeline` runs the main job.

Usage::

    dual-codet5 generate "Deploy nginx with 3 replicas behind a load balancer" --model outputs/final
    echo "A Redis cache with a persistent volume" | dual-codet5 generate - --model outputs/final --repair
    dual-codet5 generate "A CronJob that backs up postgres nightly" --model outputs/final --fallback retrieval
    dual-codet5 generate --file intents.txt --model outputs/final --n 4 --format json > results.json
    dual-codet5 generate "..." --model user/dual-codet5-k8s --do_sample --temperature 0.7 --n 8 --seed 0
    dual-codet5 pipeline --help          # forwarded to dual_codet5.pipeline.main (= run_pipeline.py)

`generate` writes the YAML to stdout and a lint summary (validity, BP%, security, failing checks with how to fix
them, the repairs made, the best-of-n scores) to stderr, so `dual-codet5 generate ... > app.yaml` keeps only the
manifest. `--format json` prints one JSON object per intent instead (a list for `--file`).

Decoding stops a sequence that degenerates (a repeated key, list item or line) or whose YAML breaks, and cuts what
follows (`dual_codet5.stopping`; `--no_early_stop` turns it off); `--max_time` bounds the seconds spent per intent
(default 10; 0 = no budget).

Exit status (like `k8s-lint`, non-zero when the answer cannot be applied): 0 when every manifest is schema-valid
Kubernetes YAML (failing best-practice checks are advice, listed on stderr), 1 when one is not (invalid YAML, or a
schema error such as an unknown kind or a missing required field), 2 on a usage error (bad flag, unreadable file,
model not loadable).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal, get_args, get_origin, get_type_hints

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_INVALID_OUTPUT, EXIT_USAGE = 0, 1, 2
MODEL_ENV = "DUAL_CODET5_MODEL"


@dataclass
class GenerateArguments:
    """Flags of `dual-codet5 generate` (the positional INTENT is added separately)."""

    model: str | None = field(
        default=None,
        metadata={"help": f"A saved model folder or a Hub id (loaded with trust_remote_code); None: ${MODEL_ENV}."},
    )
    file: str | None = field(
        default=None, metadata={"help": "Batch mode: one intent per line (blank and # lines skipped)."}
    )
    pattern: str | None = field(
        default=None,
        metadata={
            "help": "A file with the pattern to condition on (default: retrieved with the pattern bank and settings "
            "saved with the model)."
        },
    )
    num_beams: int | None = field(
        default=None,
        metadata={"help": "Beam width (raised to --n for beam search); default --n (greedy for one answer), 1 with "
                  "--do_sample."},
    )
    do_sample: bool = field(default=False, metadata={"help": "Sample instead of beam search."})
    temperature: float | None = field(default=None, metadata={"help": "Sampling temperature (with --do_sample)."})
    top_k: int | None = field(default=None, metadata={"help": "Top-k sampling (with --do_sample)."})
    top_p: float | None = field(default=None, metadata={"help": "Nucleus sampling (with --do_sample)."})
    n: int = field(default=1, metadata={"help": "Best-of-n: candidates per intent, reranked by the judge's quality."})
    repair: bool = field(
        default=False, metadata={"help": "Repair every candidate with k8s_scoring.repair before reranking."}
    )
    repair_level: Literal["safe", "strict"] = field(
        default="safe",
        metadata={
            "help": "With --repair: safe (edits that cannot stop a working pod) or strict (also runAsNonRoot, "
            "read-only root filesystem, drop ALL, ...: hardening that may break images that run as root)."
        },
    )
    fallback: Literal["none", "retrieval"] = field(
        default="retrieval",
        metadata={
            "help": "retrieval (default): when no candidate is schema-valid, print the retrieved manifest of the "
            "nearest train intent instead (from the model's own pattern bank, adapted to the intent when the model "
            "was trained so), marked FALLBACK in the summary and the JSON; on every measurement it is at least as "
            "good as the model's own answer (README, Results). none: always the model's own best candidate."
        },
    )
    format: Literal["text", "json"] = field(
        default="text", metadata={"help": "text: YAML on stdout, summary on stderr; json: one object per intent."}
    )
    max_new_tokens: int = field(default=512, metadata={"help": "Generation length limit in tokens."})
    max_time: float = field(
        default=10.0,
        metadata={
            "help": "Wall-time budget in seconds per intent (0 = none): generation stops there and returns what it "
            "has. Output then depends on the machine's speed."
        },
    )
    lookup_bonus: float | None = field(
        default=None,
        metadata={
            "help": "Exemplar lookup (docs/decoding.md): nats added to the pattern token the output is aligned to, "
            "so the model edits the retrieved manifest instead of rewriting it. Default: on for models trained on "
            "exemplar patterns (dual_codet5.lookup.DEFAULT_BONUS), off otherwise; 0 = off."
        },
    )
    no_early_stop: bool = field(
        default=False,
        metadata={"help": "Keep decoding degenerate outputs (repeated keys / items / lines, broken YAML) to the end."},
    )
    batch_size: int = field(default=8, metadata={"help": "Intents per generate call in batch mode."})
    seed: int | None = field(default=None, metadata={"help": "Seed for reproducible sampling."})
    device: str | None = field(default=None, metadata={"help": "cpu, cuda, cuda:1, ... (None: CUDA if available)."})

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"--n must be >= 1, got {self.n}")
        if self.num_beams is not None and self.num_beams < 1:
            raise ValueError(f"--num_beams must be >= 1, got {self.num_beams}")
        if self.do_sample and self.num_beams is not None and 1 < self.num_beams < self.n:
            raise ValueError(
                f"--n {self.n} with --do_sample needs --num_beams 1 (independent samples, the default) or >= {self.n}"
            )
        if self.batch_size < 1:
            raise ValueError(f"--batch_size must be >= 1, got {self.batch_size}")
        if self.max_time < 0:
            raise ValueError(f"--max_time must be >= 0 seconds (0 = no budget), got {self.max_time}")
        if self.temperature is not None and self.temperature <= 0:
            raise ValueError(f"--temperature must be > 0, got {self.temperature}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ValueError(f"--top_p must be in (0, 1], got {self.top_p}")


def _generate_parser() -> argparse.ArgumentParser:
    """The `generate` parser, built from `GenerateArguments` (its help texts are the only source of help). Booleans
    are plain switches, so `generate --repair "intent"` reads "intent" as the intent."""
    parser = argparse.ArgumentParser(
        prog="dual-codet5 generate",
        description="Generate a Kubernetes manifest for a natural-language intent, lint it, optionally repair it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("intent", nargs="?", default=None, help="The intent, or '-' to read it from stdin.")
    hints = get_type_hints(GenerateArguments)
    for spec in fields(GenerateArguments):
        hint, kwargs = hints[spec.name], {"help": spec.metadata["help"], "default": spec.default}
        if hint is bool:
            kwargs["action"] = "store_true"
        elif get_origin(hint) is Literal:
            kwargs["choices"] = get_args(hint)
        else:  # X or X | None
            kwargs["type"] = next((a for a in get_args(hint) if a is not type(None)), hint)
        parser.add_argument(f"--{spec.name}", **kwargs)
    return parser


def _top_help() -> str:
    return (
        "usage: dual-codet5 {generate,pipeline} ...\n\n"
        "  generate   intent -> checked Kubernetes YAML (dual-codet5 generate --help)\n"
        "  pipeline   run the main pipeline (forwards its arguments to dual_codet5.pipeline.main)\n"
    )


def _read_intents(args: GenerateArguments, intent: str | None) -> tuple[list[str], bool]:
    """The intents to generate for, and whether this is a batch (JSON list output)."""
    if args.file is not None:
        if intent is not None:
            raise ValueError("give either INTENT / '-' or --file, not both")
        with open(args.file, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle]
        intents = [line for line in lines if line and not line.startswith("#")]
        if not intents:
            raise ValueError(f"{args.file} has no intents")
        return intents, True
    if intent is None:
        raise ValueError("give an INTENT, '-' for stdin, or --file FILE")
    if intent == "-":
        intent = sys.stdin.read()
    intent = " ".join(intent.split())
    if not intent:
        raise ValueError("the intent is empty")
    return [intent], False


# The judge's detail for a container check on a pod spec without containers (k8s_scoring.rules._container_check): the
# check fails, but its fix ("set X on every container") does not apply to the object; adding a container does.
NO_CONTAINERS_DETAIL = "the pod spec has no containers"


def applicable_fixes(failing: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Split `lint_report(...)["failing"]` into the failures whose fix applies to their object and, per object, the
    container checks that fail only because its pod spec has no containers (their fixes would edit containers that
    do not exist).

    Returns:
        `(applicable, no_containers)`: the failures to list with their fix, in order, and `{object: [check ids]}`.
    """
    applicable: list[dict[str, Any]] = []
    no_containers: dict[str, list[str]] = {}
    for failure in failing:
        if list(failure.get("details") or ()) == [NO_CONTAINERS_DETAIL]:
            no_containers.setdefault(failure["object"], []).append(failure["check_id"])
        else:
            applicable.append(failure)
    return applicable, no_containers


def _summary(result: Any, position: str = "") -> list[str]:
    """Lint summary lines for stderr."""
    from dual_codet5.generate import score_line

    lint = result.lint
    lines = [position + score_line(lint)]
    if getattr(result, "fallback_used", False):
        lines.append(
            "  FALLBACK: no candidate was schema-valid; this is the retrieved manifest of the nearest train intent, "
            "not the model's output"
        )
    for error in lint["errors"][:5]:
        lines.append(f"  error: {error}")
    if len(lint["errors"]) > 5:
        lines.append(f"  ... {len(lint['errors']) - 5} more errors")
    if lint.get("unchecked_kinds"):
        lines.append(f"  no schema (YAML checked only): {', '.join(lint['unchecked_kinds'])}")
    if result.changes:
        lines.append(f"  repaired ({len(result.changes)} changes, level {result.repair_level}):")
        lines.extend(f"    {c.check_id:30} {c.object} {c.path}" for c in result.changes)
    applicable, no_containers = applicable_fixes(lint["failing"])
    if applicable:
        lines.append(f"  failing checks ({len(applicable)}):")
        for failure in applicable:
            lines.append(f"    {failure['check_id']:30} {failure['object']}: {failure['fix']}")
    for obj, check_ids in no_containers.items():
        lines.append(
            f"  {obj}: the pod spec has no containers: add one with a name and a pinned image "
            f"({len(check_ids)} container checks cannot pass before that)"
        )
    if len(result.candidates) > 1:
        others = ", ".join(f"#{c['index']} {c['quality']:.1f}" for c in result.candidates)
        lines.append(f"  best of {len(result.candidates)}: picked #{result.best_index} (quality {others})")
    return lines


def _generate(argv: Sequence[str]) -> int:
    parser = _generate_parser()
    try:
        namespace = parser.parse_args(list(argv))
        values = vars(namespace)
        intent = values.pop("intent")
        args = GenerateArguments(**values)
        intents, batch = _read_intents(args, intent)
        pattern = None
        if args.pattern is not None:
            with open(args.pattern, encoding="utf-8") as handle:
                pattern = handle.read()
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    except (ValueError, OSError) as err:
        print(f"dual-codet5 generate: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    model_path = args.model or os.environ.get(MODEL_ENV)
    if not model_path:
        print(f"dual-codet5 generate: error: give --model (a folder or Hub id) or set ${MODEL_ENV}", file=sys.stderr)
        return EXIT_USAGE

    from tqdm.auto import tqdm

    from dual_codet5.generate import generate_manifests
    from dual_codet5.inference import load_for_inference

    try:
        loaded = load_for_inference(model_path, device=args.device)
    except (OSError, ValueError) as err:
        print(f"dual-codet5 generate: error: cannot load the model {model_path!r}: {err}", file=sys.stderr)
        return EXIT_USAGE
    results = []
    progress = tqdm(total=len(intents), desc="generate", unit="intent", file=sys.stderr, disable=not batch)
    for start in range(0, len(intents), args.batch_size):
        chunk = intents[start : start + args.batch_size]
        results.extend(
            generate_manifests(
                chunk,
                loaded,
                n=args.n,
                repair=args.repair_level if args.repair else False,
                fallback=args.fallback,
                patterns=[pattern] * len(chunk),
                num_beams=args.num_beams,
                do_sample=args.do_sample,
                temperature=args.temperature,
                top_k=args.top_k,
                top_p=args.top_p,
                max_new_tokens=args.max_new_tokens,
                batch_size=args.batch_size,
                seed=args.seed if start == 0 else None,  # seed once: later batches continue the same stream
                early_stop=not args.no_early_stop,
                max_time=args.max_time or None,
                lookup_bonus=args.lookup_bonus,
            )
        )
        progress.update(len(chunk))
    progress.close()

    if args.format == "json":
        payload = [r.to_dict() for r in results]
        print(json.dumps(payload if batch else payload[0], indent=2, ensure_ascii=False))
    else:
        for i, result in enumerate(results):
            text = result.yaml if result.yaml.endswith("\n") or not result.yaml else result.yaml + "\n"
            if batch:
                sys.stdout.write(("---\n" if i else "") + f"# intent: {result.intent}\n")
            sys.stdout.write(text)
            position = f"[{i + 1}/{len(results)}] {result.intent}\n  " if batch else ""
            print("\n".join(_summary(result, position)), file=sys.stderr)
    sys.stdout.flush()
    return EXIT_OK if all(r.lint["schema_valid"] for r in results) else EXIT_INVALID_OUTPUT


def _pipeline(argv: Sequence[str]) -> int:
    import subprocess

    from dual_codet5 import pipeline  # lazily: only this command needs it

    try:
        pipeline.main(list(argv))
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    except subprocess.CalledProcessError as err:  # a stage failed: its own output says why
        print(f"dual-codet5 pipeline: error: a stage failed with exit status {err.returncode}", file=sys.stderr)
        return int(err.returncode) or 1
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `dual-codet5` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_top_help(), file=sys.stdout if args else sys.stderr)
        return EXIT_OK if args else EXIT_USAGE
    command, rest = args[0], args[1:]
    if command == "generate":
        return _generate(rest)
    if command == "pipeline":
        return _pipeline(rest)
    print(f"dual-codet5: unknown command {command!r}\n{_top_help()}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
