"""What the demo app (`app.py`) does, without Gradio: find the model, generate, repair, lint, diff.

`app.py` only lays out widgets and calls these functions, so everything here is tested without a browser or Gradio
(`tests/test_app_logic.py`); the browser test (`tests/test_app_browser.py`) then checks the wiring.

Options that newer parts of the package add are used when present and otherwise reported, never a crash:
repair levels (`k8s_scoring.repair.RepairConfig(level=...)`) and the retrieval fallback
(`dual_codet5.generate.generate_manifest(..., fallback=...)`).

Example:

```python
>>> from dual_codet5.app_logic import lint_yaml
>>> rows, summary = lint_yaml("apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: c, namespace: a}\\ndata: {a: b}\\n")
>>> summary
'valid YAML: yes | schema: yes | BP 100.0% | security n/a | quality 100.0'
```
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import inspect
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from k8s_scoring import CHECKS_BY_ID, analyze, score, validate

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MODEL_DIRS",
    "FALLBACKS",
    "LINT_COLUMNS",
    "MODEL_ENV",
    "REPAIR_LEVELS",
    "AppResult",
    "default_model_dir",
    "generate_for_app",
    "lint_rows",
    "lint_summary",
    "lint_yaml",
    "model_status",
    "repair_diff",
    "repair_text",
]

MODEL_ENV = "DUAL_CODET5_MODEL"
# The main job's final model first (`run_pipeline.py --preset cpu --output_dir runs/cpu`), then the short smoke
# run's (`--preset cpu-demo --output_dir runs/cpu_demo`): run_pipeline.py writes `<output_dir>/rl_dual/final`.
DEFAULT_MODEL_DIRS = ("runs/cpu/rl_dual/final", "runs/cpu_demo/rl_dual/final")
REPAIR_LEVELS = ("none", "safe", "strict")
FALLBACKS = ("none", "retrieval")
LINT_COLUMNS = ("object", "check", "result", "how to fix")
MAX_N = 8


@dataclass
class AppResult:
    """What one click on "Generate" shows.

    Args:
        yaml: the manifest shown (repaired when a repair level was chosen).
        rows: the lint table of `yaml` (`LINT_COLUMNS`).
        summary: one line: validity, BP%, security, quality.
        diff: unified diff from the model's output to the repaired manifest ("" without changes).
        notes: what the user should know (fallback used, an option this version cannot honour, ...).
    """

    yaml: str
    rows: list[list[str]]
    summary: str
    diff: str = ""
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------------- model
def default_model_dir(root: str | Path = ".", env: dict[str, str] | None = None) -> str | None:
    """The model the app serves when none is given.

    `$DUAL_CODET5_MODEL` wins when set (a folder or a Hub id in the local cache); otherwise the first of
    `DEFAULT_MODEL_DIRS` (relative to `root`) that holds a saved model (`config.json`); `None` when there is none.
    """
    env = os.environ if env is None else env
    if env.get(MODEL_ENV):
        return env[MODEL_ENV]
    for candidate in DEFAULT_MODEL_DIRS:
        path = Path(root) / candidate
        if (path / "config.json").is_file():
            return str(path)
    return None


def model_status(model: str | None) -> str:
    """A one-line, user-facing message about the model the app will use."""
    if not model:
        tried = ", ".join(f"`{d}`" for d in DEFAULT_MODEL_DIRS)
        return (
            f"No model found (looked at `${MODEL_ENV}`, {tried}). Train one with "
            "`python run_pipeline.py --preset cpu-demo --output_dir runs/cpu_demo` or start the app with "
            "`python app.py --model FOLDER`. Linting pasted YAML works without a model."
        )
    if Path(model).exists() and not (Path(model) / "config.json").is_file():
        return f"`{model}` is not a saved model folder (no config.json)."
    return f"Model: `{model}`"


@functools.lru_cache(maxsize=2)
def _load(model: str) -> Any:
    from dual_codet5.inference import load_for_inference

    return load_for_inference(model)


# ---------------------------------------------------------------------------------------------------------- lint
def lint_rows(text: str) -> list[list[str]]:
    """The lint table of a manifest: one row per (object, applicable check), failures first.

    Columns (`LINT_COLUMNS`): object (`Kind/name`), check (`id: title`), result (`fail` / `pass`, or `invalid` for a
    YAML or schema error), how to fix (the check's fix and what is wrong where, for failures; the error otherwise).
    Checks that do not apply (`n/a`) are left out.
    """
    analysis = analyze(text)
    rows: list[list[str]] = []
    errors = list(analysis.errors) if not analysis.valid else list(validate(text).errors)
    for error in dict.fromkeys(errors):
        rows.append(["(manifest)", "validity", "invalid", error])
    failed, passed = [], []
    for obj in analysis.objects:
        name = f"{obj.kind}/{obj.name}"
        for check_id, result in obj.checks.items():
            check = CHECKS_BY_ID.get(check_id)
            label = f"{check_id}: {check.title}" if check else check_id
            if str(result) == "fail":
                where = "; ".join(getattr(obj, "details", {}).get(check_id, ()))
                fix = check.fix if check else ""
                failed.append([name, label, "fail", f"{fix} ({where})" if where else fix])
            elif str(result) == "pass":
                passed.append([name, label, "pass", ""])
    return rows + failed + passed


def lint_summary(text: str) -> str:
    """One line: YAML / schema validity, BP%, security, quality (as `dual-codet5 generate` prints it)."""
    from dual_codet5.generate import score_line

    return score_line(score(text))


def lint_yaml(text: str) -> tuple[list[list[str]], str]:
    """The second tab: lint pasted YAML. Returns `(rows, summary)`; empty input asks for YAML instead."""
    if not text or not text.strip():
        return [], "Paste a Kubernetes manifest (one or more YAML documents) to lint it."
    return lint_rows(text), lint_summary(text)


# -------------------------------------------------------------------------------------------------------- repair
def _repair_config(level: str) -> tuple[Any, str | None]:
    """`RepairConfig(level=level)` where repair levels exist, else the default config and a note saying so."""
    from k8s_scoring.repair import RepairConfig

    if "level" in {f.name for f in dataclasses.fields(RepairConfig)}:
        return RepairConfig(level=level), None
    note = f"This version of k8s_scoring has no repair levels: '{level}' used the default repair rules."
    return RepairConfig(), note


def repair_text(text: str, level: str) -> tuple[str, list[Any], list[str]]:
    """Repair a manifest at `level` (`none`, `safe`, `strict`). Returns `(text, changes, notes)`."""
    if level not in REPAIR_LEVELS:
        raise ValueError(f"repair level must be one of {REPAIR_LEVELS}, got {level!r}")
    if level == "none":
        return text, [], []
    from k8s_scoring.repair import repair

    config, note = _repair_config(level)
    fixed, changes = repair(text, config)
    return fixed, list(changes), [note] if note else []


def repair_diff(before: str, after: str) -> str:
    """A unified diff `model output -> repaired` ("" when nothing changed)."""
    if before == after:
        return ""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), "model output", "repaired", n=2
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


# ------------------------------------------------------------------------------------------------------ generate
def _generate(intent: str, loaded: Any, n: int, fallback: str, max_new_tokens: int) -> tuple[Any, list[str]]:
    """`generate_manifest` with `fallback=` where it exists; otherwise a note that the fallback is unavailable."""
    from dual_codet5.generate import generate_manifest

    kwargs: dict[str, Any] = {"n": n, "max_new_tokens": max_new_tokens}
    notes = []
    if "fallback" in inspect.signature(generate_manifest).parameters:
        kwargs["fallback"] = fallback
    elif fallback != "none":
        notes.append("This version of dual_codet5.generate has no fallback: showing the model's own output.")
    result = generate_manifest(intent, loaded, **kwargs)
    used = getattr(result, "fallback", None) or getattr(result, "fallback_used", None)
    if used:
        notes.append(f"No candidate was schema-valid: this is the {fallback} fallback ({used}), not model output.")
    return result, notes


def generate_for_app(
    intent: str,
    model: str | None,
    n: int = 1,
    repair_level: str = "safe",
    fallback: str = "none",
    max_new_tokens: int = 256,
) -> AppResult:
    """The first tab: intent -> best of `n` -> optional repair -> lint table and diff.

    Never raises for user input: an empty intent, a missing model or a failed generation come back as a message in
    `summary` with empty outputs. The best of `n` is chosen on the model's raw candidates
    (`dual_codet5.generate.pick_best`); repair is then applied to the chosen one, so the diff shows exactly what
    repair changed.
    """
    if not intent or not intent.strip():
        return AppResult("", [], "Type an intent, e.g. “Deploy nginx with 3 replicas behind a load balancer”.")
    if repair_level not in REPAIR_LEVELS:
        return AppResult("", [], f"Repair level must be one of {', '.join(REPAIR_LEVELS)}.")
    if fallback not in FALLBACKS:
        return AppResult("", [], f"Fallback must be one of {', '.join(FALLBACKS)}.")
    n = max(1, min(int(n), MAX_N))
    status = model_status(model)
    if not model or not status.startswith("Model:"):
        return AppResult("", [], status)
    try:
        loaded = _load(model)
        result, notes = _generate(intent.strip(), loaded, n, fallback, int(max_new_tokens))
    except Exception as error:  # a broken folder, an out-of-memory: say it in the page, keep serving
        logger.exception("generation failed")
        return AppResult("", [], f"Generation failed: {type(error).__name__}: {error}")
    raw = result.yaml
    fixed, changes, repair_notes = repair_text(raw, repair_level)
    notes += repair_notes
    if repair_level != "none":
        notes.append(f"Repair ({repair_level}): {len(changes)} change(s).")
    if n > 1:
        notes.append(f"Best of {n}: picked candidate #{result.best_index}.")
    return AppResult(fixed, lint_rows(fixed), lint_summary(fixed), repair_diff(raw, fixed), notes)
