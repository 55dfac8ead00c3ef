"""`evaluate` metric: weighted Kubernetes security score of generated manifests, a thin wrapper over k8s_scoring."""

import math

import datasets
import evaluate

from k8s_scoring import CHECKS, CheckResult, analyze

_CITATION = """\
@misc{dual_codet5_k8s_scoring,
  title  = {k8s_scoring: best-practice, security and validity checks for Kubernetes YAML},
  author = {{dual-codet5 contributors}},
  year   = {2026},
  note   = {Check ids and weights: docs k8s_checks.md; weights follow kubesec's ordering}
}
"""

_DESCRIPTION = """\
Security score of Kubernetes manifests: for each prediction, sum(weight x pass) / sum(weight x applicable) over
the 14 security checks of k8s_scoring and every object (0-1). Weights 3: no privileged containers, no added
capabilities beyond NET_BIND_SERVICE, no hostNetwork / hostPID / hostIPC, no hostPath volumes; 2: runAsNonRoot (or
runAsUser >= 1), allowPrivilegeEscalation false, no secret-looking literal env values; 1: readOnlyRootFilesystem,
drop ALL capabilities, no hostPort, seccomp RuntimeDefault/Localhost, automountServiceAccountToken false. Pod-level
securityContext counts for a container unless the container overrides it. Invalid YAML scores 0; input without
any workload (nothing applicable) is n/a: NaN per example, left out of the mean and counted in `security_na`.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): YAML texts, one or more documents each.
    return_per_example (`bool`, defaults to `False`): also return per-example values.

Returns:
    security (`float`): mean security score over the predictions with an applicable check, 0-1 (invalid predictions
        count as 0; NaN when no prediction has one).
    security_na (`int`): number of valid predictions with no applicable security check (left out of `security`).
    security_per_example (`list` of `float`): the score of each prediction (only with `return_per_example=True`).
    failed_checks_per_example (`list` of `list` of `str`): ids of the security checks that failed for some object
        of each prediction, sorted (only with `return_per_example=True`).

Examples:
    >>> import evaluate
    >>> metric = evaluate.load("metrics/k8s_security")  # run from the repository root
    >>> pod = ("apiVersion: v1\\nkind: Pod\\nmetadata: {name: web}\\n"
    ...        "spec:\\n  hostNetwork: true\\n  containers:\\n  - {name: web, image: nginx:1.25}\\n")
    >>> results = metric.compute(predictions=[pod], return_per_example=True)
    >>> round(results["security"], 4)
    0.6207
    >>> results["failed_checks_per_example"][0][:3]
    ['sec.drop_all_capabilities', 'sec.no_automount_sa_token', 'sec.no_host_network']
"""

_SEC_IDS = tuple(check.id for check in CHECKS if check.category == "sec")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class K8sSecurity(evaluate.Metric):
    """Mean weighted security score (0-1) of Kubernetes YAML predictions."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string")}),
            reference_urls=["https://kubernetes.io/docs/concepts/security/pod-security-standards/"],
        )

    def _compute(self, predictions: list[str], return_per_example: bool = False) -> dict:
        analyses = [analyze(text) for text in predictions]
        counted = [a.security for a in analyses if not math.isnan(a.security)]
        result: dict = {
            "security": sum(counted) / len(counted) if counted else math.nan,
            "security_na": len(analyses) - len(counted),
        }
        if return_per_example:
            result["security_per_example"] = [a.security for a in analyses]
            result["failed_checks_per_example"] = [
                sorted({i for obj in a.objects for i in _SEC_IDS if obj.checks[i] is CheckResult.FAIL})
                for a in analyses
            ]
        return result
