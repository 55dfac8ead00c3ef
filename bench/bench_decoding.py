"""Per-intent decoding time and what comes out, with and without early stopping (`dual_codet5.stopping`).

For each intent and each decoding mode, `generate_yaml` runs once per setting (early stop off / on, optionally a
time budget) on a saved model; the table gives the wall time of the call, the tokens generated, whether the model
wrote `</s>`, the tokens kept after the cut and whether what is kept is schema-valid. The pattern comes from the
bundled pattern bank, as in `dual-codet5 generate`. Wall time on a shared machine measures the neighbours too:
compare rows of one run, under `flock /tmp/cpu-heavy.lock`.

    python bench/bench_decoding.py --model runs/cpu_demo/sft_dual/final
    python bench/bench_decoding.py --model runs/cpu/rl_dual/final --modes beam4 --max_time 10 --json out.json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dual_codet5.inference import generate_yaml, load_for_inference  # noqa: E402
from k8s_data import default_pattern_bank  # noqa: E402
from k8s_scoring import score  # noqa: E402

INTENTS = [
    "Deploy nginx with 3 replicas behind a load balancer",
    "A Redis cache with a persistent volume claim of 5Gi",
    "A CronJob that backs up the postgres database every night at 2am",
    "An Ingress that routes example.com to the web service on port 80",
    "A ConfigMap with the application settings and a Deployment that mounts it",
]
MODES = {
    "greedy": {"num_beams": 1, "do_sample": False},
    "beam4": {"num_beams": 4, "do_sample": False},
    "sample": {"num_beams": 1, "do_sample": True, "temperature": 0.7},
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a saved model folder")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--max_new_tokens", type=int, default=512)
    parser.add_argument("--max_time", type=float, default=None, help="also run early stop + this budget (s/intent)")
    parser.add_argument("--no_off", action="store_true", help="skip the runs without early stop (the slow ones)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.threads:
        torch.set_num_threads(args.threads)
    loaded = load_for_inference(args.model, device="cpu")
    tok = loaded.tokenizer
    bank = default_pattern_bank()
    patterns = [bank.retrieve(i) for i in INTENTS]
    settings = [("on", True, None)] if args.no_off else [("off", False, None), ("on", True, None)]
    if args.max_time:
        settings.append((f"on+{args.max_time:g}s", True, args.max_time))
    # record what each generate call produced before the cut: generated length, and whether it wrote </s>
    produced: list[tuple[int, bool]] = []
    inner = loaded.model.generate

    def recording_generate(*a, **kw):
        out = inner(*a, **kw)
        produced.append((out.shape[1] - 1, bool((out[0, 1:] == tok.eos_token_id).any())))
        return out

    loaded.model.generate = recording_generate
    rows = []
    print(f"model {args.model}, torch threads {torch.get_num_threads()}, max_new_tokens {args.max_new_tokens}")
    print("| intent | mode | early stop | seconds | generated tokens | ended with </s> | kept tokens | schema-valid |")
    print("|---|---|---|---|---|---|---|---|")
    for i, (intent, pattern) in enumerate(zip(INTENTS, patterns)):
        for mode in args.modes:
            for name, early_stop, max_time in settings:
                torch.manual_seed(0)
                start = time.perf_counter()
                (text,) = generate_yaml(
                    loaded, [intent], [pattern], batch_size=1, max_new_tokens=args.max_new_tokens,
                    early_stop=early_stop, max_time=max_time, **MODES[mode],
                )[0]  # fmt: skip
                seconds = time.perf_counter() - start
                generated, eos = produced[-1]
                kept = len(tok(text, add_special_tokens=False).input_ids)
                row = {
                    "intent": i, "mode": mode, "early_stop": name, "seconds": round(seconds, 2),
                    "generated_tokens": generated, "ended_with_eos": eos, "kept_tokens": kept,
                    "schema_valid": bool(score(text)["schema_valid"]), "text": text,
                }  # fmt: skip
                rows.append(row)
                print(
                    f"| {i} | {mode} | {name} | {seconds:.1f} | {generated} | {'yes' if eos else 'no'} | {kept} | "
                    f"{'yes' if row['schema_valid'] else 'no'} |"
                )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return rows


if __name__ == "__main__":
    main()
