"""`evaluate` metric: the validity-gated RL reward of dual-codet5, a thin wrapper over k8s_scoring.reward_fn."""

import datasets
import evaluate

from k8s_scoring import reward_fn

_CITATION = """\
@misc{dual_codet5_k8s_scoring,
  title  = {k8s_scoring: best-practice, security and validity checks for Kubernetes YAML},
  author = {{dual-codet5 contributors}},
  year   = {2026},
  note   = {Reward = validity-gated 0.3 CodeBLEU-YAML + 0.4 BP + 0.2 security + 0.1 complexity}
}
"""

_DESCRIPTION = """\
The reward that stage-2 RL training of dual-codet5 optimises, as a metric: for each prediction,
reward = schema_valid * (w_c * CodeBLEU-YAML + w_b * BP%/100 + w_s * security + w_x * complexity) / (sum of the
weights of the terms that apply), default weights 0.3 / 0.4 / 0.2 / 0.1 (0-1). `schema_valid` is the validity
credit: 0 for invalid YAML and for anything the API server would reject, else the share of objects that could be
verified (an unverifiable custom resource earns none). No free points: a BP or security term that applies to the
reference but to nothing in the prediction scores 0; a term that applies to neither (a StorageClass against a
StorageClass) leaves the sum and the other weights are renormalised. It is the same function as
`k8s_scoring.reward_fn`, so the numbers equal those seen in training.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): generated YAML texts.
    references (`list` of `str`): one reference YAML text per prediction (for CodeBLEU-YAML and the relative
        complexity score).
    weights (`dict`, optional): some of `codebleu`, `bp`, `security`, `complexity` (non-negative; normalised by
        their sum); missing ones keep their defaults 0.3 / 0.4 / 0.2 / 0.1.
    return_per_example (`bool`, defaults to `False`): also return the reward of each pair.

Returns:
    reward (`float`): mean reward over the pairs, 0-1.
    reward_per_example (`list` of `float`): one reward per pair (only with `return_per_example=True`).

Examples:
    >>> import evaluate
    >>> metric = evaluate.load("metrics/k8s_reward")  # run from the repository root
    >>> cm = "apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: c, namespace: app}\\ndata: {a: b}\\n"
    >>> results = metric.compute(predictions=[cm, "a: ["], references=[cm, cm], return_per_example=True)
    >>> results["reward_per_example"]
    [1.0, 0.0]
    >>> metric.compute(predictions=[cm], references=[cm], weights={"codebleu": 1.0, "bp": 0, "security": 0,
    ...                                                            "complexity": 0})["reward"]
    1.0
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class K8sReward(evaluate.Metric):
    """Mean validity-gated RL reward over prediction/reference pairs."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
            reference_urls=["https://arxiv.org/abs/2402.14740"],
        )

    def _compute(
        self,
        predictions: list[str],
        references: list[str],
        weights: dict | None = None,
        return_per_example: bool = False,
    ) -> dict:
        rewards = reward_fn(list(predictions), list(references), weights=weights)
        result: dict = {"reward": sum(rewards) / max(len(rewards), 1)}
        if return_per_example:
            result["reward_per_example"] = rewards
        return result
