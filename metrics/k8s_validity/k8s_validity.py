"""`evaluate` metric: YAML and Kubernetes-schema validity of generated manifests, a thin wrapper over k8s_scoring."""

import datasets
import evaluate

from k8s_scoring import validate

_CITATION = """\
@misc{dual_codet5_k8s_scoring,
  title  = {k8s_scoring: best-practice, security and validity checks for Kubernetes YAML},
  author = {{dual-codet5 contributors}},
  year   = {2026},
  note   = {Schemas: kubernetes-validate 1.37.0, Kubernetes 1.33 strict OpenAPI schemas}
}
"""

_DESCRIPTION = """\
Two validity levels of Kubernetes manifests. `yaml_valid`: the text parses and every document is a mapping with
apiVersion, kind and metadata.name (empty and comment-only documents are skipped; `kind: List` is expanded).
Duplicate mapping keys are a YAML error (as in kubectl). `schema_valid`: additionally the API server would accept
every object, as far as static checks go: a well-formed apiVersion, the strict OpenAPI schema of Kubernetes 1.33
(unknown fields rejected, as `kubectl --validate=strict`) and the API server's own validation rules for built-in
kinds (k8s_scoring.api_rules: required fields, enums, names and labels, port ranges, quantities, requests <= limits,
selector matching, cron syntax, Job restart policy, conflicting securityContext fields ...); custom resources
against their CRD's openAPIV3Schema when it is known. A custom resource with no known schema is not an error but is
not verified either: it is listed in `unchecked_kinds_per_example` and counted in `verified` as unverified.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): YAML texts, one or more documents each.
    return_per_example (`bool`, defaults to `False`): also return per-example values.

Returns:
    yaml_valid (`float`): share of predictions that are valid Kubernetes YAML, 0-1.
    schema_valid (`float`): share of predictions with no error found (schemas and API-server rules), 0-1.
    verified (`float`): share of predictions that are schema-valid AND fully verified (no unchecked custom
        resource), 0-1: the validity credit that `k8s_scoring.score` gives.
    yaml_valid_per_example, schema_valid_per_example (`list` of `int`): 0/1 per prediction (only with
        `return_per_example=True`).
    errors_per_example (`list` of `list` of `str`): why each prediction is invalid, each error with its path, e.g.
        `document 0 Service/web: spec.ports[0].port: must be between 1 and 65535, inclusive (got 70000)` (only with
        `return_per_example`).
    unchecked_kinds_per_example (`list` of `list` of `str`): `apiVersion/kind` of objects without a schema.

Examples:
    >>> import evaluate
    >>> metric = evaluate.load("metrics/k8s_validity")  # run from the repository root
    >>> good = "apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: c}\\ndata: {a: b}\\n"
    >>> typo = "apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: c}\\ndatta: {a: b}\\n"
    >>> results = metric.compute(predictions=[good, typo, "a: ["])
    >>> round(results["yaml_valid"], 4), round(results["schema_valid"], 4)
    (0.6667, 0.3333)
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class K8sValidity(evaluate.Metric):
    """YAML and schema validity rates of Kubernetes YAML predictions."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string")}),
            reference_urls=["https://github.com/willthames/kubernetes-validate"],
        )

    def _compute(self, predictions: list[str], return_per_example: bool = False) -> dict:
        validities = [validate(text) for text in predictions]
        n = max(len(validities), 1)
        result: dict = {
            "yaml_valid": sum(1 for v in validities if v.yaml_valid) / n,
            "schema_valid": sum(1 for v in validities if v.schema_valid) / n,
            "verified": sum(1 for v in validities if v.verified) / n,
        }
        if return_per_example:
            result["yaml_valid_per_example"] = [int(v.yaml_valid) for v in validities]
            result["schema_valid_per_example"] = [int(v.schema_valid) for v in validities]
            result["errors_per_example"] = [list(v.errors) for v in validities]
            result["unchecked_kinds_per_example"] = [list(v.unchecked_kinds) for v in validities]
        return result
