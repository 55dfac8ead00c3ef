"""k8s_scoring: the judge. Pure functions over Kubernetes YAML text (k8s_checks.md): best-practice and security checks,
validity, complexity, CodeBLEU-YAML, quality and the RL reward, plus the ``k8s-lint`` CLI.

>>> import k8s_scoring
>>> k8s_scoring.score("apiVersion: v1\\nkind: Namespace\\nmetadata: {name: demo}\\n")["yaml_valid"]
1.0
"""

from __future__ import annotations

from .analysis import Analysis, ObjectResult, analyze
from .api_rules import API_RULES, ApiRule
from .codebleu import codebleu_yaml
from .complexity import ComplexityConfig, complexity
from .documents import ParseLimits, parse
from .repair import (  # binds the name `repair` to the function over the submodule of that name
    Change,
    RepairConfig,
    repair,
)
from .rules import CHECKS, CHECKS_BY_ID, Check, CheckResult
from .scores import RewardWeights, applicable_categories, quality, reward_fn, score
from .validity import Validity, ValidityIssue, validate

__all__ = [
    "API_RULES",
    "CHECKS",
    "CHECKS_BY_ID",
    "Analysis",
    "ApiRule",
    "Change",
    "Check",
    "CheckResult",
    "ComplexityConfig",
    "ObjectResult",
    "ParseLimits",
    "RepairConfig",
    "RewardWeights",
    "Validity",
    "ValidityIssue",
    "analyze",
    "applicable_categories",
    "codebleu_yaml",
    "complexity",
    "parse",
    "quality",
    "repair",
    "reward_fn",
    "score",
    "validate",
]

