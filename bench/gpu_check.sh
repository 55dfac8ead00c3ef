#!/usr/bin/env bash
# GPU check: a shortened `gpu` preset through every pipeline stage plus the GPU benchmarks, in one command that fits
# 10 minutes on one H100 / H200 and writes what it saw under "$OUT" (default ./gpu_check_out).
#
#   bash bench/gpu_check.sh              # on the GPU machine, from the repository root
#   bash bench/gpu_check.sh --prepare    # once, HERE (where pip reaches an index): the wheels below into .whl/
#
# What it runs (each step under `timeout`, and all of them under one budget, GPU_CHECK_BUDGET_S = 540 s):
#   1. bench/bench_train.py --device cuda --copy: SFT step time of dual / T5 / copy at the preset's shapes (eager, bf16)
#   2. bench/bench_generate.py --device cuda --copy: generation time, greedy and beam 4
#   3. run_pipeline.py --config <configs/pipeline_gpu.yaml + overrides>: tokenizer, SFT single-encoder copy baseline,
#      SFT dual, RL dual, SFT plain T5, evaluation (retrieval first), learning curve; the same configs with fewer
#      steps and examples (1,024 SFT examples x 1 epoch, 32 RL intents, 64 test and 16 validation intents)
# A failed or timed-out step is marked in summary.md and the next one runs; the exit status is non-zero if any did.
# With no CUDA device visible to torch it stops at once (exit 2).
#
# Files under $OUT (8 at most, no folders; the device tool's limits): gpu_check.log (everything), summary.md (step,
# status, seconds; the benchmark tables), env.txt (nvidia-smi, versions), pipeline_timings.json, results.md,
# learning_curve.json, bench_train.json, bench_generate.json.
#
# The device machine (no network) has PyTorch, accelerate, tokenizers, sacrebleu, scipy, matplotlib, but not this
# project's transformers >= 5.24, datasets, ruamel.yaml, kubernetes-validate or tree-sitter. `--prepare` downloads
# them as cp312 manylinux wheels (the versions installed here) into .whl/ (git-ignored, about 17 MB: the
# kubernetes-validate wheel is cut to the one schema version k8s_scoring reads); this script installs them from
# .whl/ with `pip install --no-index` into /tmp/gpu_check_site. The device tool sends the checkout the session was
# started in, so run --prepare there. The device-tool call (carry the wheels; 600 s leaves the script's budget and
# the wheel install inside the limit):
#   run(command="bash bench/gpu_check.sh", carry=[".whl"], timeout_s=600)
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

if [[ "${1:-}" == "--prepare" ]]; then
  # the packages the device image lacks, at the versions installed here
  pkgs=(transformers datasets dill multiprocess ruamel.yaml kubernetes-validate jsonschema jsonschema-specifications
        referencing rpds-py importlib-resources tree-sitter tree-sitter-yaml)
  pins=()
  for p in "${pkgs[@]}"; do
    pins+=("$p==$("$PYTHON" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$p")")
  done
  rm -rf .whl && mkdir -p .whl
  "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 -d .whl "${pins[@]}"
  # keep only the schemas k8s_scoring.schema reads (v<KUBERNETES_VERSION>-local-strict): 22 MB -> about 1 MB
  "$PYTHON" - <<'EOF'
import glob, os, re, zipfile
version = re.search(r'KUBERNETES_VERSION = "([^"]+)"', open("k8s_scoring/schema.py").read()).group(1)
keep = f"kubernetes_validate/kubernetes-json-schema/v{version}-local-strict/"
(src,) = glob.glob(".whl/kubernetes_validate-*.whl")
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(src + ".tmp", "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        if not item.filename.startswith("kubernetes_validate/kubernetes-json-schema/") or item.filename.startswith(keep):
            zout.writestr(item, zin.read(item.filename))
os.replace(src + ".tmp", src)
EOF
  ls -la .whl && du -sh .whl
  echo "gpu_check: wheels ready; call the device tool with carry=[\".whl\"]"
  exit 0
fi

OUT="${OUT:-./gpu_check_out}"
mkdir -p "$OUT"
LOG="$OUT/gpu_check.log"
SUMMARY="$OUT/summary.md"
RUN="${GPU_CHECK_RUN_DIR:-/tmp/gpu_check_run}"   # the pipeline's outputs (checkpoints stay on the machine)
: >"$LOG"

# --- fail fast without CUDA (before anything slow)
if ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" >>"$LOG" 2>&1; then
  echo "gpu_check: no CUDA device visible to torch ($PYTHON); run this on a GPU machine (bench/gpu_check.sh header)" \
    | tee -a "$LOG" >&2
  exit 2
fi

# --- the carried wheels, then the project's imports
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/gpu_check_site .whl/*.whl >>"$LOG" 2>&1
  export PYTHONPATH="/tmp/gpu_check_site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
if ! "$PYTHON" - >>"$LOG" 2>&1 <<'EOF'
import datasets, kubernetes_validate, ruamel.yaml, transformers, tree_sitter_yaml  # noqa: F401
from packaging.version import Version
assert Version(transformers.__version__) >= Version("5.24"), f"transformers {transformers.__version__} < 5.24"
import dual_codet5.pipeline, k8s_scoring  # noqa: F401
EOF
then
  tail -n 5 "$LOG" >&2
  echo "gpu_check: the project's dependencies do not import; run 'bash bench/gpu_check.sh --prepare' here and carry" \
    ".whl (bench/gpu_check.sh header)" | tee -a "$LOG" >&2
  exit 3
fi

{
  echo "# gpu_check environment"; date -u; echo
  nvidia-smi || true; echo
  "$PYTHON" - <<'EOF' || true
import importlib.metadata as m, platform, torch
print("python", platform.python_version(), "| torch", torch.__version__, "| cuda", torch.version.cuda,
      "| device", torch.cuda.get_device_name(), "| bf16", torch.cuda.is_bf16_supported())
for name in ("transformers", "accelerate", "tokenizers", "datasets", "kubernetes-validate", "tree-sitter", "numpy"):
    print(name, m.version(name))
EOF
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
} >"$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

# --- steps: each under its own timeout, all under one budget
BUDGET_S="${GPU_CHECK_BUDGET_S:-540}"
mkdir -p "$RUN"
DEADLINE=$((SECONDS + BUDGET_S))
FAILED=0
printf '# gpu_check\n\n| step | status | seconds |\n|---|---|---:|\n' >"$SUMMARY"
TABLES=""

step() {  # step NAME LIMIT_S COMMAND...: run under min(LIMIT_S, budget left), output to the log and stdout
  local name=$1 limit=$2 left=$((DEADLINE - SECONDS)) t0=$SECONDS status=ok rc
  : >"$RUN/step_out"
  shift 2
  if ((left < 10)); then
    echo "| $name | skipped (budget of ${BUDGET_S} s spent) | 0 |" >>"$SUMMARY"; FAILED=1; return 0
  fi
  ((limit > left)) && limit=$left
  echo "=== [$name] timeout ${limit}s: $*" | tee -a "$LOG"
  if timeout --kill-after=10 "$limit" "$@" 2>&1 | tee -a "$LOG" "$RUN/step_out"; then
    :
  else
    rc=$?  # timeout's status (pipefail; tee succeeded)
    if ((rc == 124 || rc == 137)); then status="TIMEOUT (${limit} s)"; else status="FAILED (exit $rc)"; fi
    FAILED=1
  fi
  echo "| $name | $status | $((SECONDS - t0)) |" >>"$SUMMARY"
}

step bench_train 100 "$PYTHON" bench/bench_train.py --device cuda --copy --preset small --vocab_size 8000 \
  --batch_size 32 --intent_len 128 --pattern_len 512 --target_len 512 --steps 10 --warmup 3 --modes eager \
  --corpus_batches 10 --corpus_max_length 512 --output_json "$OUT/bench_train.json"
TABLES+=$'\n## bench_train.py\n\n'$(grep -E '^(\||device)' "$RUN/step_out" || true)$'\n'
step bench_generate 100 "$PYTHON" bench/bench_generate.py --device cuda --copy --preset small --batch-sizes 1 64 \
  --intent-length 32 --pattern-length 256 --new-tokens 128 --decodings greedy beam4 --caches dynamic --repeats 2 \
  --json "$OUT/bench_generate.json"
TABLES+=$'\n## bench_generate.py\n\n'$(grep -E '^(\||device)' "$RUN/step_out" || true)$'\n'

# the gpu preset with fewer steps and examples: flags appended to its own argument lists (the last value wins)
CFG="$RUN/pipeline_gpu_check.yaml"
"$PYTHON" - "$CFG" <<'EOF'
import sys, yaml
config = yaml.safe_load(open("configs/pipeline_gpu.yaml"))
more = {
    "sft_args": ["--max_train_samples", "1024", "--num_train_epochs", "1", "--max_eval_samples", "32",
                 "--save_model_steps", "16"],
    "rl_args": ["--max_train_samples", "32", "--max_eval_samples", "16"],
    "evaluate_args": ["--max_examples", "64", "--n_resamples", "999"],
    "curve_args": ["--max_examples", "16"],
}
for key, flags in more.items():
    config[key] = [*config.get(key, []), *flags]
yaml.safe_dump(config, open(sys.argv[1], "w"), sort_keys=False)
EOF
cat "$CFG" >>"$LOG"
for stage in tokenizer sft_baseline sft_dual rl_dual sft_t5 evaluate curve; do
  limit=120; [[ $stage == evaluate ]] && limit=150; [[ $stage == tokenizer || $stage == curve ]] && limit=90
  step "pipeline $stage" "$limit" "$PYTHON" run_pipeline.py --config "$CFG" --output_dir "$RUN" --stages "$stage"
done
cp "$RUN/pipeline_timings.json" "$RUN/eval/results.md" "$RUN/curve/learning_curve.json" "$OUT/" 2>/dev/null || true

echo "$TABLES" >>"$SUMMARY"
echo; cat "$SUMMARY"
if ((FAILED)); then echo "gpu_check: some steps failed (summary.md, gpu_check.log)" >&2; exit 1; fi
echo "gpu_check: all steps passed; files in $OUT"
