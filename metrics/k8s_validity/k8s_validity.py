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
`schema_valid`: additionally every object of a built-in kind validates against the strict OpenAPI schema of
Kubernetes 1.33 (unknown fields rejected, as `kubectl --validate=strict`). Custom resources have no schema: they are
only YAML-checked and listed in `unchecked_kinds_per_example`.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): YAML texts, one or more documents each.
    return_per_example (`bool`, defaults to `False`): also return per-example values.

Returns:
    yaml_valid (`float`): share of predictions that are valid Kubernetes YAML, 0-1.
    schema_valid (`float`): share of predictions that also pass the Kubernetes 1.33 schemas, 0-1.
    yaml_valid_per_example, schema_valid_per_example (`list` of `int`): 0/1 per prediction (only with
        `return_per_example=True`).
    errors_per_example (`list` of `list` of `str`): why each prediction is invalid (only with `return_per_example`).
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
        }
        if return_per_example:
            result["yaml_valid_per_example"] = [int(v.yaml_valid) for v in validities]
            result["schema_valid_per_example"] = [int(v.schema_valid) for v in validities]
            result["errors_per_example"] = [list(v.errors) for v in validities]
            result["unchecked_kinds_per_example"] = [list(v.unchecked_kinds) for v in validities]
        return result
