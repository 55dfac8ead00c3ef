"""Best-practice terms an intent may mention only when the target manifest has them.

An intent that asks for "resource limits" while the target has none teaches the model to ignore the request (and
punishes it in evaluation for doing what was asked). Each rule pairs a phrase pattern with the YAML evidence that
makes the phrase true. Both the synthesiser (which only states facts it read) and the real-description filter use
this table; `absent_best_practices` is the check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class BestPracticeTerm:
    """A best-practice phrase and the YAML evidence required before an intent may use it.

    Args:
        id: Stable id, e.g. `resources`.
        phrase: Regex searched (case-insensitively) in the intent.
        evidence: Regex searched (multi-line, case-insensitively) in the target YAML text; one match suffices.
    """

    id: str
    phrase: str
    evidence: str


BEST_PRACTICE_TERMS: tuple[BestPracticeTerm, ...] = (
    BestPracticeTerm(
        "resources",
        r"\b(resource|cpu|memory) (limits?|requests?)\b|\b(limits and requests|requests and limits)\b",
        r"\b(limits|requests|default|defaultRequest|max|min|hard)\s*:",
    ),
    BestPracticeTerm("liveness-probe", r"\bliveness\b", r"^\s*livenessProbe:"),
    BestPracticeTerm("readiness-probe", r"\breadiness\b", r"^\s*readinessProbe:"),
    BestPracticeTerm("startup-probe", r"\bstartup ?probes?\b", r"^\s*startupProbe:"),
    # a custom resource's own `probes:` block (CloudNativePG Cluster) configures health checks too
    BestPracticeTerm("health-check", r"\bhealth ?checks?\b|\bprobes?\b", r"probes?:|health ?check"),
    BestPracticeTerm("security-context", r"\bsecurity ?contexts?\b", r"^\s*securityContext:"),
    BestPracticeTerm("non-root", r"\bnon-?root\b|\brunasnonroot\b", r"runAsNonRoot:\s*true|runAsUser:\s*[1-9]"),
    BestPracticeTerm("read-only-root", r"\bread-?only root", r"readOnlyRootFilesystem:\s*true"),
    BestPracticeTerm("capabilities", r"\b(drop|dropped|dropping) (all )?capabilities\b", r"^\s*drop:"),
    BestPracticeTerm(
        "pod-disruption-budget", r"\bdisruption budgets?\b|\bpdbs?\b",
        # an operator's `pdb:` / `podDisruptionBudget:` setting (Redis operator) makes the operator create one
        r"kind:\s*[\"']?PodDisruptionBudget|^\s*(pdb|podDisruptionBudget):",
    ),
    BestPracticeTerm("network-policy", r"\bnetwork ?polic(y|ies)\b", r"kind:\s*[\"']?\w*NetworkPolicy"),
    BestPracticeTerm("anti-affinity", r"\banti-?affinity\b", r"AntiAffinity:"),
    BestPracticeTerm("image-pull-policy", r"\bimage ?pull ?policy\b", r"^\s*imagePullPolicy:"),
    BestPracticeTerm(
        "autoscaling", r"\bautoscal\w*|\bhpa\b", r"autoscal|kind:\s*ScaledObject|kind:\s*\w*Autoscaler"
    ),
    BestPracticeTerm("tls", r"\btls\b|\bhttps\b", r"tls|https|certificate|^\s*- port:\s*443\b|:\s*443\b"),
)

_COMPILED = tuple(
    (term.id, re.compile(term.phrase, re.IGNORECASE), re.compile(term.evidence, re.IGNORECASE | re.MULTILINE))
    for term in BEST_PRACTICE_TERMS
)


_WORD = re.compile(r"[\w][\w.\-/:]*")


def _quoted_from_target(intent: str, yaml_text: str) -> str:
    """The intent without words it quotes from the target.

    Removed: identifiers (`with-anti-affinity`, an image) that occur in the YAML, and plain words that occur in the
    YAML as values (RBAC resources such as `networkpolicies`). Naming an object is not asking for a field, so
    `Pod "with-affinity-anti-affinity"` must not count as a request for anti-affinity.
    """

    def keep(match: re.Match[str]) -> str:
        word = match.group(0).rstrip(".:")
        if any(c in word for c in "-./:") and word in yaml_text:
            return " "
        if re.search(rf"(?<![\w.\-]){re.escape(word)}(?![\w.\-])(?!\s*:)", yaml_text):
            return " "
        return match.group(0)

    return _WORD.sub(keep, intent)


def absent_best_practices(intent: str, yaml_text: str) -> list[str]:
    """Ids of best-practice terms that `intent` mentions but `yaml_text` has no evidence of.

    Words the intent quotes from the target (object names, images, RBAC resources) are ignored.

    Example: `absent_best_practices("a pod with resource limits", "kind: Pod\\n")` → `["resources"]`.
    """
    if not any(phrase.search(intent) for _, phrase, _ in _COMPILED):  # fast path: no best-practice words at all
        return []
    intent = _quoted_from_target(intent, yaml_text)
    return [
        term_id for term_id, phrase, evidence in _COMPILED if phrase.search(intent) and not evidence.search(yaml_text)
    ]
