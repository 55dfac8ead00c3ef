"""`evaluate` metric: Kubernetes best-practice score (BP%) of generated manifests, a thin wrapper over k8s_scoring."""

import math

import datasets
import evaluate

from k8s_scoring import CHECKS, CheckResult, analyze

_CITATION = """\
@misc{dual_codet5_k8s_scoring,
  title  = {k8s_scoring: best-practice, security and validity checks for Kubernetes YAML},
  author = {{dual-codet5 contributors}},
  year   = {2026},
  note   = {Check ids and definitions: docs k8s_checks.md; peers: Polaris, checkov, kube-linter, kube-score, Trivy}
}
"""

_DESCRIPTION = """\
BP% of Kubernetes manifests: for each prediction, the share (0-100) of applicable (object, check) pairs that pass
the 11 best-practice checks of k8s_scoring (liveness/readiness probes, CPU/memory requests and limits, pinned image
tags, at least 2 replicas unless an HPA targets the workload, pod anti-affinity or topology spread, selector matching
the template labels, explicit namespace). A check that does not apply (e.g. probes for a Job, namespace for a
cluster-scoped kind) is `n/a` and counts neither way. Invalid YAML (does not parse, Helm templates, no apiVersion /
kind / metadata.name) scores 0, never "no applicable checks = 100". Input with no applicable BP check (a lone
StorageClass) is n/a: its per-example value is NaN, it is left out of the mean and counted in `bp_na`.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): YAML texts, one or more documents each (multi-document and `kind: List` allowed).
    return_per_example (`bool`, defaults to `False`): also return per-example values.

Returns:
    bp (`float`): mean BP% over the predictions with an applicable check, 0-100 (invalid predictions count as 0;
        NaN when no prediction has one).
    bp_na (`int`): number of valid predictions with no applicable BP check (left out of `bp`).
    yaml_valid (`float`): share of predictions that are valid Kubernetes YAML, 0-1.
    bp_per_example (`list` of `float`): BP% of each prediction (only with `return_per_example=True`).
    failed_checks_per_example (`list` of `list` of `str`): ids of the checks that failed for some object of each
        prediction, sorted (only with `return_per_example=True`).

Examples:
    >>> import evaluate
    >>> metric = evaluate.load("metrics/k8s_best_practices")  # run from the repository root
    >>> pod = ("apiVersion: v1\\nkind: Pod\\nmetadata: {name: web, namespace: shop}\\n"
    ...        "spec:\\n  containers:\\n  - {name: web, image: nginx}\\n")
    >>> results = metric.compute(predictions=[pod, "{{ .Values.x }}"], return_per_example=True)
    >>> results["bp"], results["yaml_valid"], results["bp_per_example"]
    (6.25, 0.5, [12.5, 0.0])
    >>> results["failed_checks_per_example"][0][:3]
    ['bp.cpu_limits', 'bp.cpu_requests', 'bp.image_tag_pinned']
"""

_BP_IDS = tuple(check.id for check in CHECKS if check.category == "bp")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class K8sBestPractices(evaluate.Metric):
    """Mean BP% (0-100) of Kubernetes YAML predictions."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string")}),
            reference_urls=["https://kubernetes.io/docs/concepts/configuration/overview/"],
        )

    def _compute(self, predictions: list[str], return_per_example: bool = False) -> dict:
        analyses = [analyze(text) for text in predictions]
        n = max(len(analyses), 1)
        counted = [a.bp for a in analyses if not math.isnan(a.bp)]
        result: dict = {
            "bp": sum(counted) / len(counted) if counted else math.nan,
            "bp_na": len(analyses) - len(counted),
            "yaml_valid": sum(1.0 for a in analyses if a.valid) / n,
        }
        if return_per_example:
            result["bp_per_example"] = [a.bp for a in analyses]
            result["failed_checks_per_example"] = [
                sorted({i for obj in a.objects for i in _BP_IDS if obj.checks[i] is CheckResult.FAIL})
                for a in analyses
            ]
        return result
