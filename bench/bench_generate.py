"""Generation throughput: DualCodeT5 against transformers' T5ForConditionalGeneration of the same decoder size.

Both models are randomly initialised with the same shapes (the T5 baseline is `presets.baseline_t5_config`: same
vocabulary, width, encoder and decoder depth, no pattern encoder, no fusion). The baseline reads intent and pattern
concatenated, so both decoders cross-attend to a memory of the same length and the comparison isolates what the
dual design costs at generation time (one more encoder pass and the fusion, done once per call).

Every call generates exactly `--new-tokens` tokens per sequence (`min_new_tokens == max_new_tokens`), so tokens/s
= batch x new tokens / seconds (beam search counts the returned sequence, not the beams). Each measurement is the
best of `--repeats` timed calls (the two models alternating) after one untimed warm-up call, which also triggers
transformers' automatic `torch.compile` of the static-cache decoding step on CUDA (not on CPU).

On CPU the default clock is the process's CPU time with one thread: tokens per CPU-second, which stays meaningful
when other jobs share the cores (wall time on a loaded machine measures the neighbours). Run (CPU, small shapes,
about 1-2 minutes):

    python bench/bench_generate.py

GPU (CodeT5-base shape, the issue's batch sizes):

    python bench/bench_generate.py --device cuda --preset base --batch-sizes 1 32 128 --new-tokens 64

`--copy` adds the pointer-generator variant (`copy_mechanism=True`, otherwise the same config) as a third model in
the same rounds and reports its overhead against the dual model without copy (`copy / dual` time ratio):

    python bench/bench_generate.py --copy --batch-sizes 1 8 --caches dynamic
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from transformers import T5ForConditionalGeneration

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modeling_dual_codet5 import DualCodeT5ForConditionalGeneration  # noqa: E402
from modeling_dual_codet5.presets import baseline_t5_config, count_parameters, preset_config  # noqa: E402

# CPU default: a "small but not toy" shape that keeps the whole default run around a minute or two.
CPU_SHAPE = {"vocab_size": 2000, "d_model": 128, "d_kv": 32, "d_ff": 512, "num_layers": 2, "num_decoder_layers": 2,
             "pattern_num_layers": 2, "num_heads": 4, "fusion_num_heads": 4}  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="auto (cuda when present), cpu or cuda")
    parser.add_argument("--preset", default=None, help="tiny/small/base; default: base on CUDA, a small shape on CPU")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None, help="default: 1 32 128")
    parser.add_argument("--intent-length", type=int, default=None, help="intent tokens (default: 32 CUDA, 16 CPU)")
    parser.add_argument("--pattern-length", type=int, default=None, help="pattern tokens (default: 64 CUDA, 32 CPU)")
    parser.add_argument("--new-tokens", type=int, default=None, help="generated tokens (default: 64 CUDA, 16 CPU)")
    parser.add_argument("--decodings", nargs="+", default=["greedy", "beam4"], choices=["greedy", "beam4"])
    parser.add_argument("--caches", nargs="+", default=["dynamic", "static"], choices=["dynamic", "static"])
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds per cell, best kept (default 3)")
    parser.add_argument("--dtype", default=None, help="float32/bfloat16 (default: bfloat16 on CUDA, float32 on CPU)")
    parser.add_argument("--json", type=Path, default=None, help="also write the measurements to this JSON file")
    parser.add_argument("--copy", action="store_true", help="also time the copy_mechanism=True variant")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: 1 on CPU)")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default=None,
        help="wall: elapsed time (default on CUDA); cpu: this process's CPU time (default on CPU, with one thread it "
        "is the compute time even when other jobs share the cores)",
    )
    return parser.parse_args(argv)


def timed_pair(
    models: dict, inputs: dict, kwargs: dict, repeats: int, device: torch.device, clock
) -> dict[str, float]:
    """Best wall time per model over `repeats` rounds, after one warm-up call each.

    The models alternate within each round, so that load from other processes (a shared CPU) hits both alike.
    """

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    for name, model in models.items():
        model.generate(**inputs[name], **kwargs)  # warm-up (and compilation of the static-cache step on CUDA)
    best = dict.fromkeys(models, float("inf"))
    for _ in range(repeats):
        for name, model in models.items():
            sync()
            start = clock()
            out = model.generate(**inputs[name], **kwargs)
            sync()
            best[name] = min(best[name], clock() - start)
            if out.shape != (inputs[name]["input_ids"].shape[0], kwargs["max_new_tokens"] + 1):
                raise RuntimeError(f"{name}: unexpected output shape {tuple(out.shape)}")
    return best


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))  # fmt: skip
    on_gpu = device.type == "cuda"
    torch.set_num_threads(args.threads or (torch.get_num_threads() if on_gpu else 1))
    clock_name = args.clock or ("wall" if on_gpu else "cpu")
    clock = time.perf_counter if clock_name == "wall" else time.process_time
    config = preset_config(args.preset or "base") if (args.preset or on_gpu) else preset_config("base", **CPU_SHAPE)
    batch_sizes = args.batch_sizes or [1, 32, 128]
    new_tokens = args.new_tokens or (64 if on_gpu else 16)
    args.intent_length = args.intent_length or (32 if on_gpu else 16)
    args.pattern_length = args.pattern_length or (64 if on_gpu else 32)
    repeats = args.repeats or 3
    dtype = getattr(torch, args.dtype or ("bfloat16" if on_gpu else "float32"))

    torch.manual_seed(0)
    dual = DualCodeT5ForConditionalGeneration(config).to(device=device, dtype=dtype).eval()
    t5 = T5ForConditionalGeneration(baseline_t5_config(config)).to(device=device, dtype=dtype).eval()
    models = {"dual": dual, "t5": t5}
    if args.copy:
        copy_config = config.to_dict()
        copy_config["copy_mechanism"] = True
        copy = DualCodeT5ForConditionalGeneration(type(config).from_dict(copy_config))
        models["copy"] = copy.to(device=device, dtype=dtype).eval()
    shape = (f"d_model {config.d_model}, layers {config.num_layers}/{config.pattern_num_layers}/"
             f"{config.num_decoder_layers} (intent/pattern/decoder), heads {config.num_heads}, "
             f"vocab {config.vocab_size}")  # fmt: skip
    device_name = torch.cuda.get_device_name(device) if on_gpu else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {device_name}; dtype {str(dtype).removeprefix('torch.')}; torch {torch.__version__}")
    print(f"shape: {shape}; dual {count_parameters(dual).total:,} params, T5 {count_parameters(t5).total:,} params")
    print(f"intent {args.intent_length} + pattern {args.pattern_length} tokens -> {new_tokens} new tokens; "
          f"best of {repeats} after 1 warm-up; {clock_name} clock\n")  # fmt: skip

    rows = []
    copy_head = " dual+copy tok/s | copy time / dual time |" if args.copy else ""
    print("| batch | decoding | cache | dual tok/s | T5 tok/s | dual / T5 |" + copy_head)
    print("|---:|---|---|---:|---:|---:|" + ("---:|---:|" if args.copy else ""))
    for batch_size in batch_sizes:
        gen = torch.Generator().manual_seed(batch_size)
        intent = torch.randint(3, config.vocab_size, (batch_size, args.intent_length), generator=gen)
        pattern = torch.randint(3, config.vocab_size, (batch_size, args.pattern_length), generator=gen)
        dual_inputs = {"input_ids": intent.to(device), "attention_mask": torch.ones_like(intent).to(device),
                       "pattern_input_ids": pattern.to(device),
                       "pattern_attention_mask": torch.ones_like(pattern).to(device)}  # fmt: skip
        joined = torch.cat([intent, pattern], dim=1)
        t5_inputs = {"input_ids": joined.to(device), "attention_mask": torch.ones_like(joined).to(device)}
        for decoding in args.decodings:
            for cache in args.caches:
                kwargs = {"max_new_tokens": new_tokens, "min_new_tokens": new_tokens, "do_sample": False,
                          "cache_implementation": cache}  # fmt: skip
                if decoding == "beam4":
                    kwargs["num_beams"] = 4
                inputs = {"dual": dual_inputs, "t5": t5_inputs, "copy": dual_inputs}
                with torch.inference_mode():
                    best = timed_pair(models, {k: inputs[k] for k in models}, kwargs, repeats, device, clock)
                dual_s, t5_s = best["dual"], best["t5"]
                tokens = batch_size * new_tokens
                row = {"batch": batch_size, "decoding": decoding, "cache": cache,
                       "dual_tok_s": tokens / dual_s, "t5_tok_s": tokens / t5_s, "ratio": t5_s / dual_s}  # fmt: skip
                copy_cells = ""
                if args.copy:
                    row.update(copy_tok_s=tokens / best["copy"], copy_time_ratio=best["copy"] / dual_s)
                    copy_cells = f" {row['copy_tok_s']:,.0f} | {row['copy_time_ratio']:.3f} |"
                rows.append(row)
                print(f"| {batch_size} | {decoding} | {cache} | {row['dual_tok_s']:,.0f} | {row['t5_tok_s']:,.0f} "
                      f"| {row['ratio']:.2f}x |" + copy_cells, flush=True)  # fmt: skip
    if args.json:
        meta = {"device": device_name, "dtype": str(dtype), "shape": shape, "new_tokens": new_tokens,
                "clock": clock_name, "intent_length": args.intent_length,
                "pattern_length": args.pattern_length}  # fmt: skip
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
