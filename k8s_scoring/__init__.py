"""k8s_scoring: the judge. Pure functions over Kubernetes YAML text (k8s_checks.md): best-practice and security checks,
validity, complexity, CodeBLEU-YAML, quality and the RL reward, plus the ``k8s-lint`` CLI.

>>> import k8s_scoring
>>> k8s_scoring.score("apiVersion: v1\\nkind: Namespace\\nmetadata: {name: demo}\\n")["yaml_valid"]
1.0
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .analysis import Analysis, ObjectResult, analyze
from .codebleu import codebleu_yaml
from .complexity import ComplexityConfig, complexity
from .documents import ParseLimits, parse
from .rules import CHECKS, CHECKS_BY_ID, Check, CheckResult
from .scores import RewardWeights, quality, reward_fn, score
from .validity import Validity, validate

if TYPE_CHECKING:  # pragma: no cover
    from .repair import Change, repair

__all__ = [
    "CHECKS",
    "CHECKS_BY_ID",
    "Analysis",
    "Change",
    "Check",
    "CheckResult",
    "ComplexityConfig",
    "ObjectResult",
    "ParseLimits",
    "RewardWeights",
    "Validity",
    "analyze",
    "codebleu_yaml",
    "complexity",
    "parse",
    "quality",
    "repair",
    "reward_fn",
    "score",
    "validate",
]


def __getattr__(name: str) -> Any:
    # repair pulls in ruamel.yaml; import it only when asked for (PEP 562). Importing the submodule binds
    # `k8s_scoring.repair` to the module, so the function is bound over it afterwards.
    if name in ("repair", "Change"):
        module = importlib.import_module(".repair", __name__)
        globals().update(repair=module.repair, Change=module.Change)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
