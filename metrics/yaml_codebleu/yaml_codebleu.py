"""`evaluate` metric: CodeBLEU-YAML (CodeBLEU with YAML parts), a thin wrapper over k8s_scoring.codebleu_yaml."""

import datasets
import evaluate

from k8s_scoring import codebleu_yaml

_CITATION = """\
@misc{ren2020codebleu,
  title         = {CodeBLEU: a Method for Automatic Evaluation of Code Synthesis},
  author        = {Shuo Ren and Daya Guo and Shuai Lu and Long Zhou and Shujie Liu and Duyu Tang and Neel Sundaresan
                   and Ming Zhou and Ambrosio Blanco and Shuai Ma},
  year          = {2020},
  eprint        = {2009.10297},
  archivePrefix = {arXiv},
  primaryClass  = {cs.SE}
}
@inproceedings{post-2018-call,
  title     = {A Call for Clarity in Reporting {BLEU} Scores},
  author    = {Post, Matt},
  booktitle = {Proceedings of the Third Conference on Machine Translation: Research Papers},
  year      = {2018},
  pages     = {186--191},
  url       = {https://www.aclweb.org/anthology/W18-6319}
}
"""

_DESCRIPTION = """\
CodeBLEU-YAML: the CodeBLEU formula (Ren et al. 2020) with parts built for Kubernetes YAML,
codebleu = a*ngram + b*weighted_ngram + c*syntax + d*semantic (default 0.25 each), all parts 0-1.
ngram: sentence BLEU exactly as sacrebleu.sentence_bleu with its defaults (13a tokens, exp smoothing), / 100.
weighted_ngram: the same BLEU with Kubernetes kinds and field names weighing 5 (other tokens 1) in the unigram
precision. syntax: multiset F1 of structural subtrees (documents, mappings, pairs, sequences; key text and value
types, not value text) of the tree-sitter-yaml parse. semantic: multiset F1 of (key path, type, value) leaves, the
stand-in for CodeBLEU's data-flow match. Sentence-level; the corpus value is the mean over pairs.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): generated YAML texts.
    references (`list` of `str`): one reference YAML text per prediction.
    weights (`tuple` of 4 `float`, defaults to `(0.25, 0.25, 0.25, 0.25)`): weights of ngram, weighted_ngram,
        syntax, semantic; non-negative, normalised by their sum.
    return_per_example (`bool`, defaults to `False`): also return per-example values of every part.

Returns:
    codebleu, ngram, weighted_ngram, syntax, semantic (`float`): means over the pairs, 0-1.
    codebleu_per_example, ngram_per_example, ... (`list` of `float`): one value per pair (only with
        `return_per_example=True`).

Examples:
    >>> import evaluate
    >>> metric = evaluate.load("metrics/yaml_codebleu")  # run from the repository root
    >>> results = metric.compute(predictions=["kind: Pod"], references=["kind: Service"])
    >>> {k: round(v, 4) for k, v in results.items()}
    {'codebleu': 0.5163, 'ngram': 0.5503, 'weighted_ngram': 0.5147, 'syntax': 1.0, 'semantic': 0.0}
"""

_PARTS = ("codebleu", "ngram", "weighted_ngram", "syntax", "semantic")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class YamlCodeBLEU(evaluate.Metric):
    """Mean CodeBLEU-YAML and its four parts over prediction/reference pairs."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
            codebase_urls=["https://github.com/microsoft/CodeXGLUE/tree/main/Code-Code/code-to-code-trans/evaluator"],
            reference_urls=["https://arxiv.org/abs/2009.10297", "https://github.com/mjpost/sacrebleu"],
        )

    def _compute(
        self,
        predictions: list[str],
        references: list[str],
        weights: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 0.25),
        return_per_example: bool = False,
    ) -> dict:
        scores = [codebleu_yaml(p, r, weights=tuple(weights)) for p, r in zip(predictions, references)]
        n = max(len(scores), 1)
        result: dict = {part: sum(s[part] for s in scores) / n for part in _PARTS}
        if return_per_example:
            result.update({f"{part}_per_example": [s[part] for s in scores] for part in _PARTS})
        return result
