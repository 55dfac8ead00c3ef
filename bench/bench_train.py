"""SFT training-step throughput: the dual model vs transformers' T5ForConditionalGeneration, eager and compiled.

Two measurements in one run:

1. **Fixed shapes, equal total tokens.** The T5 baseline (``baseline_t5_config`` of the same preset) reads
   ``intent_len + pattern_len`` source tokens; the dual model reads the same tokens split over its two encoders.
   One SFT step = forward + backward + AdamW step. Reported: ms/step, target tokens/s, total tokens/s, and the
   dual / T5 ratio, eager and ``torch.compile``d.
2. **Real corpus.** Non-padding tokens/s of the dual model on the bundled corpus' train split, batched with
   dynamic padding in length-grouped order vs random order (the share of padding tokens shows why grouping matters).

Commands::

    # CPU default: a mini model, small shapes (< 2 minutes on 2 cores)
    python bench/bench_train.py
    # the issue's GPU setting: CodeT5-base shape, bf16 autocast, B=32, source 384 (= 128 intent + 256 pattern),
    # target 512
    python bench/bench_train.py --preset base --batch_size 32 --intent_len 128 --pattern_len 256 --target_len 512 \\
        --steps 20 --warmup 5 --corpus_batches 50 --output_json bench/results_h100.json

``--copy`` adds the pointer-generator variant (``copy_mechanism=True``, otherwise the same config) to the fixed-shape
measurement and reports its step time against the dual model without copy (``copy/dual``)::

    python bench/bench_train.py --copy --modes eager --corpus_batches 0

Threads: ``OMP_NUM_THREADS=N`` sets the intra-op threads, ``--interop_threads N`` torch's inter-op pool (used by
``torch.jit.fork`` and a few parallel ops; eager training barely touches it: docs/training.md, "The cpu preset").

Results are printed as a Markdown table and written as JSON (``--output_json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dual_codet5.collate import LengthGroupedSampler, Seq2SeqCollator, example_lengths, tokenize_dataset  # noqa: E402
from dual_codet5.training_args import ModelArguments  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="tiny", help="tiny | small | base (modeling_dual_codet5.presets).")
    p.add_argument(
        "--config_overrides",
        default=None,
        help="key=value,... on top of the preset (default on tiny: the 128-wide model of configs/sft_tiny.yaml).",
    )
    p.add_argument("--vocab_size", type=int, default=None, help="Vocabulary (default: the preset's, 2000 for tiny).")
    p.add_argument("--batch_size", type=int, default=8)
    p.add_argument("--intent_len", type=int, default=32)
    p.add_argument("--pattern_len", type=int, default=64)
    p.add_argument("--target_len", type=int, default=128)
    p.add_argument("--steps", type=int, default=4, help="Timed steps per configuration.")
    p.add_argument("--warmup", type=int, default=2, help="Untimed steps first (compilation happens here).")
    p.add_argument("--modes", nargs="+", default=["eager", "compiled"], choices=["eager", "compiled"])
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="auto: cuda when present.")
    p.add_argument("--dtype", default="auto", choices=["auto", "fp32", "bf16"], help="Autocast (auto: bf16 on GPU).")
    p.add_argument("--corpus_batches", type=int, default=6, help="Batches of the real-corpus measurement (0 = skip).")
    p.add_argument("--corpus_max_length", type=int, default=256, help="Truncation of the real-corpus sequences.")
    p.add_argument("--output_json", default=None)
    p.add_argument("--copy", action="store_true", help="Also time the copy_mechanism=True variant of the dual model.")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--interop_threads",
        type=int,
        default=None,
        help="torch.set_num_interop_threads(N) before any work (intra-op threads: OMP_NUM_THREADS). Default: torch's.",
    )
    return p.parse_args(argv)


def build_models(args: argparse.Namespace, device: torch.device) -> dict[str, torch.nn.Module]:
    from transformers import T5ForConditionalGeneration

    from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration
    from modeling_dual_codet5.presets import baseline_t5_config, preset_config

    overrides: dict = {"dropout_rate": 0.0, "fusion_dropout": 0.0}
    spec = args.config_overrides
    if spec is None and args.preset == "tiny":
        spec = "d_model=128,d_kv=32,d_ff=512,num_heads=4,fusion_num_heads=4"
    overrides.update(ModelArguments(config_overrides=spec).overrides())
    vocab = args.vocab_size or (2000 if args.preset == "tiny" else None)
    if vocab:
        overrides["vocab_size"] = vocab
    config = preset_config(args.preset, **overrides)
    torch.manual_seed(args.seed)
    models = {
        "dual": DualCodeT5ForConditionalGeneration(config).to(device),
        "t5": T5ForConditionalGeneration(baseline_t5_config(config)).to(device),
    }
    if args.copy:
        copy_config = preset_config(args.preset, **{**overrides, "copy_mechanism": True})
        models["copy"] = DualCodeT5ForConditionalGeneration(copy_config).to(device)
    return models


def synthetic_batch(args: argparse.Namespace, vocab: int, device: torch.device, dual: bool) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(args.seed)
    b = args.batch_size

    def ids(n: int) -> torch.Tensor:
        return torch.randint(5, vocab, (b, n), generator=g).to(device)

    labels = ids(args.target_len)
    if dual:
        return {
            "input_ids": ids(args.intent_len),
            "attention_mask": torch.ones(b, args.intent_len, device=device),
            "pattern_input_ids": ids(args.pattern_len),
            "pattern_attention_mask": torch.ones(b, args.pattern_len, device=device),
            "labels": labels,
        }
    src = args.intent_len + args.pattern_len
    return {"input_ids": ids(src), "attention_mask": torch.ones(b, src, device=device), "labels": labels}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_steps(model, optimizer, batches, steps, warmup, device, autocast_dtype) -> tuple[float, float]:
    """Mean seconds per SFT step over ``steps`` (after ``warmup``) and the warm-up time (includes compilation)."""
    model.train()

    def step(batch):
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    t0 = time.perf_counter()
    for i in range(warmup):
        step(batches[i % len(batches)])
    sync(device)
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(steps):
        step(batches[i % len(batches)])
    sync(device)
    return (time.perf_counter() - t0) / steps, warm


def fixed_shape_bench(args, models, device, autocast_dtype) -> list[dict]:
    rows = []
    for mode in args.modes:
        for name, model in models.items():
            batch = synthetic_batch(args, model.config.vocab_size, device, dual=name != "t5")
            run_model = torch.compile(model) if mode == "compiled" else model
            opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
            sec, warm = time_steps(run_model, opt, [batch], args.steps, args.warmup, device, autocast_dtype)
            tgt = args.batch_size * args.target_len
            total = args.batch_size * (args.intent_len + args.pattern_len + args.target_len)
            rows.append({"model": name, "mode": mode, "ms_per_step": sec * 1e3, "target_tok_s": tgt / sec,
                         "total_tok_s": total / sec, "warmup_s": warm,
                         "params_m": sum(p.numel() for p in model.parameters()) / 1e6})  # fmt: skip
            torch._dynamo.reset()
    for mode in args.modes:
        by = {r["model"]: r for r in rows if r["mode"] == mode}
        if {"dual", "t5"} <= by.keys():
            by["dual"]["ratio_vs_t5"] = by["dual"]["total_tok_s"] / by["t5"]["total_tok_s"]
        if {"dual", "copy"} <= by.keys():
            by["copy"]["copy_time_ratio"] = by["copy"]["ms_per_step"] / by["dual"]["ms_per_step"]
    return rows


def corpus_bench(args, model, device, autocast_dtype) -> list[dict]:
    """Non-padding tokens/s of the dual model on real data, length-grouped vs random batches."""
    from dual_codet5.train_utils import tokenizer_training_texts
    from k8s_data import load_k8s_intents, train_tokenizer

    dsd = load_k8s_intents()
    n = min(len(dsd["train"]), args.batch_size * args.corpus_batches * 8)
    train = dsd["train"].select(range(n))
    tok = train_tokenizer(tokenizer_training_texts(dsd), vocab_size=model.config.vocab_size)
    lim = args.corpus_max_length
    ds = tokenize_dataset(train, tok, model_type="dual", max_source_length=lim, max_pattern_length=lim,
                          max_target_length=lim)  # fmt: skip
    collate = Seq2SeqCollator(pad_token_id=tok.pad_token_id)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    rows = []
    for grouped in (True, False):
        order = list(LengthGroupedSampler(example_lengths(ds), args.batch_size, args.seed, group_by_length=grouped))
        batches = [collate([ds[i] for i in order[j : j + args.batch_size]])
                   for j in range(0, args.batch_size * args.corpus_batches, args.batch_size)]  # fmt: skip
        real = padded = 0
        for b in batches:
            real += int(b["attention_mask"].sum() + b["pattern_attention_mask"].sum() + (b["labels"] != -100).sum())
            padded += b["input_ids"].numel() + b["pattern_input_ids"].numel() + b["labels"].numel()
        batches = [{k: v.to(device) for k, v in b.items() if k != "example_index"} for b in batches]
        sec, _ = time_steps(model, opt, batches, len(batches), 1, device, autocast_dtype)
        rows.append({"order": "length-grouped" if grouped else "random", "batches": len(batches),
                     "padding_share": 1 - real / padded, "real_tok_s": real / (sec * len(batches)),
                     "ms_per_step": sec * 1e3})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.interop_threads is not None:
        torch.set_num_interop_threads(args.interop_threads)  # only allowed before the first parallel work
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench_train.py: --device cuda, but torch sees no CUDA device")
    auto = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(auto if args.device == "auto" else args.device)
    use_bf16 = args.dtype == "bf16" or (args.dtype == "auto" and device.type == "cuda")
    autocast_dtype = torch.bfloat16 if use_bf16 else None
    models = build_models(args, device)
    fixed = fixed_shape_bench(args, models, device, autocast_dtype)
    corpus = corpus_bench(args, models["dual"], device, autocast_dtype) if args.corpus_batches else []
    env = {"device": torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or "cpu",
           "torch": torch.__version__, "threads": torch.get_num_threads(),
           "interop_threads": torch.get_num_interop_threads(),
           "autocast": "bf16" if use_bf16 else "fp32"}  # fmt: skip
    result = {"args": vars(args), "env": env, "fixed_shapes": fixed, "corpus": corpus}

    print(f"device {env['device']}, torch {env['torch']}, {env['autocast']}, {env['threads']} threads + "
          f"{env['interop_threads']} inter-op, preset {args.preset}, "
          f"B={args.batch_size}, intent {args.intent_len} + pattern {args.pattern_len} (T5: one source of "
          f"{args.intent_len + args.pattern_len}), target {args.target_len}")  # fmt: skip
    print("\n| model | mode | params (M) | ms/step | target tok/s | total tok/s | dual/T5 | copy/dual time "
          "| warm-up s |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in fixed:
        ratio = f"{r['ratio_vs_t5']:.2f}x" if "ratio_vs_t5" in r else ""
        copy_ratio = f"{r['copy_time_ratio']:.3f}" if "copy_time_ratio" in r else ""
        print(f"| {r['model']} | {r['mode']} | {r['params_m']:.2f} | {r['ms_per_step']:.1f} | "
              f"{r['target_tok_s']:,.0f} | {r['total_tok_s']:,.0f} | {ratio} | {copy_ratio} | "
              f"{r['warmup_s']:.1f} |")  # fmt: skip
    if corpus:
        print("\n| real corpus, dual, eager | batches | padding share | non-padding tok/s | ms/step |")
        print("|---|---:|---:|---:|---:|")
        for r in corpus:
            print(f"| {r['order']} | {r['batches']} | {r['padding_share']:.1%} | {r['real_tok_s']:,.0f} | "
                  f"{r['ms_per_step']:.1f} |")  # fmt: skip
    if args.output_json:
        Path(args.output_json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
