"""House rule (issue 15): library packages never import the root scripts (train_sft.py, train_rl.py,
evaluate_models.py, run_pipeline.py); scripts import the library, not the other way round."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dual_codet5", "k8s_data", "k8s_scoring", "modeling_dual_codet5")
ROOT_SCRIPTS = frozenset(p.stem for p in ROOT.glob("*.py"))  # train_sft, train_rl, evaluate_models, run_pipeline
# importlib.import_module("run_pipeline") / __import__("train_sft") would dodge the AST check of import statements
DYNAMIC = re.compile(r"""(?:import_module|__import__)\(\s*["'](\w+)""")


def root_script_imports(source: str) -> list[str]:
    """Names of root scripts that `source` imports (statically or through importlib / __import__)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module.split(".")[0])
    found += DYNAMIC.findall(source)
    return [name for name in found if name in ROOT_SCRIPTS]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import run_pipeline", ["run_pipeline"]),  # the import issue 15 removed from dual_codet5/cli.py
        ("def f():\n    from evaluate_models import main", ["evaluate_models"]),  # a lazy import counts too
        ("import importlib\nimportlib.import_module('train_sft')", ["train_sft"]),  # dynamic import
        ("from . import pipeline", []),  # a relative import of a package module is fine
        ("from dual_codet5 import pipeline", []),  # the package's own pipeline module
        ('cmd = ["python", "train_sft.py"]', []),  # running a script as a subprocess by name is allowed
    ],
)
def test_detector(source, expected):
    assert root_script_imports(source) == expected


def test_root_scripts_are_known():
    # the guard is only as good as this list: the four scripts must be found at the repository root
    assert {"train_sft", "train_rl", "evaluate_models", "run_pipeline"} <= ROOT_SCRIPTS


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_import_no_root_script(package):
    offenders = {
        str(path.relative_to(ROOT)): names
        for path in sorted((ROOT / package).rglob("*.py"))
        if (names := root_script_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, f"library modules import root scripts: {offenders}"
