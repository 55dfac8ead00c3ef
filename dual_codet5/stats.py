"""Paired statistics for comparing two models on the same test set.

Every model is compared with the baseline example by example (the same intents, the same decoding), so all tests
here are *paired*: they work on the per-example differences ``d_i = model_i - baseline_i``.

- Effect: mean difference with a paired BCa bootstrap 95 % CI (Efron 1987, ``scipy.stats.bootstrap``), and Cohen's
  ``d_z = mean(d) / sd(d)`` (Cohen 1988; Lakens 2013, "Calculating and reporting effect sizes", eq. 6) with a BCa
  bootstrap CI.
- Significance: the Wilcoxon signed-rank test is primary for continuous metrics (no normality assumption; scores
  such as BP% are bounded and skewed). Differences are rounded first (``decimals``) so that float noise such as
  ``0.1 + 0.2 - 0.3`` counts as a tie, and zero differences (both models equally good, often identical outputs) are
  handled with ``zero_method="zsplit"`` (zero ranks split evenly between the two signs): unlike the default
  ``"wilcox"``, which drops them, ties keep counting as evidence of *no* difference (conservative with many ties:
  40 ties + 10 positive differences 1..10 give p = 0.005 with "wilcox", 0.019 with "zsplit"; scipy 1.17). The
  paired t-test is reported beside it. For binary metrics (YAML / schema validity) the primary test is the exact
  McNemar test: a two-sided binomial test on the discordant pairs (McNemar 1947; exact form: Fagerland et al. 2013).
- Multiplicity: Holm's step-down correction (Holm 1979) across the metric family of one model-vs-baseline
  comparison, on the primary p-values (and separately on the t-test p-values).
- Targets: one-sided bootstrap lower bound (BCa, 95 %) of a model's mean, in percent, against a threshold; for
  binary metrics the exact Clopper-Pearson one-sided bound is reported too.

Degenerate data never crash: when all differences are equal to zero the result is "no difference" (mean 0, CI
[0, 0], p = 1, d_z = 0). When all differences are equal to a non-zero constant, the CI is that constant, d_z is
undefined (reported as ``None``: zero spread), and the rank and sign tests still give their exact p-values.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats

logger = logging.getLogger(__name__)

__all__ = [
    "MetricSpec",
    "METRICS",
    "METRICS_BY_NAME",
    "TARGETS",
    "WILCOXON_ZERO_METHOD",
    "PairedComparison",
    "TargetCheck",
    "bootstrap_ci",
    "cohens_dz",
    "compare_paired",
    "compare_models",
    "holm",
    "mcnemar_exact",
    "target_check",
    "aggregate_runs",
]

WILCOXON_ZERO_METHOD = "zsplit"
"""How the Wilcoxon test treats zero differences; see the module docstring for why ``zsplit``."""


@dataclass(frozen=True)
class MetricSpec:
    """One metric of the family compared between models.

    Args:
        name: key in the dictionary returned by `k8s_scoring.score`.
        title: label for tables and plots.
        to_percent: factor that puts the metric on a 0-100 scale (targets and tables are in percent).
        higher_is_better: direction used to word the verdict ("better" / "worse").
        binary: 0/1 per example; tested with exact McNemar instead of Wilcoxon.
    """

    name: str
    title: str
    to_percent: float
    higher_is_better: bool = True
    binary: bool = False


# The family of metrics compared; names are the keys of `k8s_scoring.score(prediction, reference)`.
METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("codebleu", "CodeBLEU", 100.0),
    MetricSpec("bp", "BP %", 1.0),
    MetricSpec("security", "Security", 100.0),
    MetricSpec("quality", "Quality", 1.0),
    MetricSpec("complexity", "Complexity", 100.0),
    MetricSpec("reward", "Reward", 100.0),
    MetricSpec("yaml_valid", "YAML valid", 100.0, binary=True),
    MetricSpec("schema_valid", "Schema valid", 100.0, binary=True),
)
METRICS_BY_NAME: dict[str, MetricSpec] = {m.name: m for m in METRICS}

# The seed's targets, in percent. "Validity >= 95" is read as YAML validity (the seed's wording) and checked on
# schema validity as well, the stricter reading.
TARGETS: dict[str, float] = {
    "codebleu": 85.0,
    "bp": 90.0,
    "quality": 85.0,
    "security": 80.0,
    "yaml_valid": 95.0,
    "schema_valid": 95.0,
}


@dataclass
class PairedComparison:
    """Result of comparing one model with the baseline on one metric (differences are model - baseline).

    Means and differences are in the metric's own units (see `MetricSpec.to_percent` to convert).
    """

    metric: str
    n: int
    binary: bool
    mean_baseline: float
    mean_model: float
    mean_diff: float
    ci_low: float
    ci_high: float
    ci_method: str
    wilcoxon_statistic: float | None
    wilcoxon_p: float
    wilcoxon_zero_method: str
    ttest_statistic: float | None
    ttest_p: float
    cohens_dz: float | None
    dz_ci_low: float | None
    dz_ci_high: float | None
    n_better: int
    n_worse: int
    n_tied: int
    mcnemar_b: int | None = None
    mcnemar_c: int | None = None
    mcnemar_p: float | None = None
    primary_test: str = "wilcoxon"
    primary_p: float = 1.0
    primary_p_holm: float | None = None
    ttest_p_holm: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TargetCheck:
    """A model's mean on one metric (percent) against the seed's target, judged by a one-sided lower bound."""

    metric: str
    threshold: float
    mean: float
    lower_bound: float
    confidence_level: float
    met_point_estimate: bool
    met_lower_bound: bool
    exact_lower_bound: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _finite(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _round(values: np.ndarray, decimals: int) -> np.ndarray:
    # np.round(-0.0) keeps the sign bit; adding 0.0 normalises it so zeros compare equal everywhere.
    return np.round(values, decimals) + 0.0


def bootstrap_ci(
    data: Sequence[float] | np.ndarray,
    statistic: str = "mean",
    *,
    confidence_level: float = 0.95,
    alternative: str = "two-sided",
    n_resamples: int = 9999,
    seed: int = 0,
) -> tuple[float, float, str]:
    """BCa bootstrap confidence interval of the mean (or of d_z) of one sample of paired differences.

    Resampling the differences is the paired bootstrap: pairs are resampled together.

    Args:
        data: per-example values, shape `(n,)`.
        statistic: `"mean"` or `"dz"` (mean / sample sd).
        confidence_level: e.g. 0.95.
        alternative: `"two-sided"`, or `"greater"` for a one-sided lower bound (upper is then +inf).
        n_resamples: bootstrap resamples.
        seed: seed of the resampling generator (results are reproducible).

    Returns:
        `(low, high, method)`; `method` is `"BCa"`, `"percentile"` (when BCa is undefined, e.g. a jackknife with
        zero spread) or `"degenerate"` (all values equal: the interval is that value).
    """
    x = np.asarray(data, dtype=float)
    if x.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    if np.all(x == x[0]):
        if statistic == "dz":
            value = 0.0 if x[0] == 0 else math.copysign(math.inf, x[0])
        else:
            value = float(x[0])
        high = math.inf if alternative == "greater" else value
        return value, high, "degenerate"

    if statistic == "mean":

        def stat(sample: np.ndarray, axis: int = -1) -> np.ndarray:
            return np.mean(sample, axis=axis)

    elif statistic == "dz":

        def stat(sample: np.ndarray, axis: int = -1) -> np.ndarray:
            sd = np.std(sample, axis=axis, ddof=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.mean(sample, axis=axis) / sd

    else:
        raise ValueError(f"statistic must be 'mean' or 'dz', got {statistic!r}")

    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DegenerateDataWarning / divide warnings are handled below
            res = stats.bootstrap(
                (x,),
                stat,
                vectorized=True,
                n_resamples=n_resamples,
                confidence_level=confidence_level,
                alternative=alternative,
                method=method,
                rng=np.random.default_rng(seed),
            )
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if not math.isnan(low) and not math.isnan(high):
            return low, high, method
        logger.debug("bootstrap %s gave NaN for %s; falling back", method, statistic)
    return math.nan, math.nan, "undefined"


def cohens_dz(diff: Sequence[float] | np.ndarray) -> float | None:
    """Cohen's d_z for paired data: mean of the differences over their sample standard deviation.

    Returns 0.0 when every difference is zero (no effect) and None when the differences are a non-zero constant
    (zero spread: the standardised effect is undefined).
    """
    d = np.asarray(diff, dtype=float)
    if d.size < 2 or np.all(d == d[0]):
        return 0.0 if d.size == 0 or d[0] == 0 else None
    return float(np.mean(d) / np.std(d, ddof=1))


def mcnemar_exact(baseline: Sequence[int], model: Sequence[int]) -> tuple[int, int, float]:
    """Exact McNemar test on paired binary outcomes.

    Args:
        baseline: 0/1 per example for the baseline, shape `(n,)`.
        model: 0/1 per example for the model, shape `(n,)`.

    Returns:
        `(b, c, p)`: b = pairs where only the baseline succeeds, c = pairs where only the model succeeds, and the
        two-sided p-value of the binomial test of b against Binomial(b + c, 1/2) (1.0 when there are no discordant
        pairs).
    """
    x = np.asarray(baseline).astype(bool)
    y = np.asarray(model).astype(bool)
    if x.shape != y.shape:
        raise ValueError(f"paired samples must have equal shapes, got {x.shape} and {y.shape}")
    b = int(np.sum(x & ~y))
    c = int(np.sum(~x & y))
    p = 1.0 if b + c == 0 else float(stats.binomtest(b, b + c, 0.5).pvalue)
    return b, c, min(p, 1.0)


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (Holm 1979), in the input order; None entries are skipped.

    ``p_adj(i) = max_{j <= i} min(1, (m - j + 1) p_(j))`` over the p-values sorted ascending.
    """
    idx = [i for i, p in enumerate(pvalues) if p is not None and not math.isnan(p)]
    m = len(idx)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda k: pvalues[k])):
        running = max(running, min(1.0, (m - rank) * float(pvalues[i])))
        out[i] = running
    return out


def compare_paired(
    baseline: Sequence[float] | np.ndarray,
    model: Sequence[float] | np.ndarray,
    *,
    metric: str = "metric",
    binary: bool | None = None,
    higher_is_better: bool = True,
    decimals: int = 9,
    confidence_level: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
) -> PairedComparison:
    """All paired statistics of one metric for one model against the baseline.

    Args:
        baseline: per-example scores of the baseline, shape `(n,)`.
        model: per-example scores of the model on the same examples in the same order, shape `(n,)`.
        metric: name recorded in the result.
        binary: 0/1 metric (primary test exact McNemar); inferred from the values when None.
        higher_is_better: direction used for the better / worse counts.
        decimals: differences are rounded to this many decimals before the rank test (float noise → ties).
        confidence_level: of the bootstrap CIs.
        n_resamples: bootstrap resamples.
        seed: bootstrap seed.
    """
    x = np.asarray(baseline, dtype=float)
    y = np.asarray(model, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"paired samples must be 1-D with equal lengths, got {x.shape} and {y.shape}")
    notes: list[str] = []
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.all():  # n/a (NaN: no check of the category applies) on either side: counted apart, not as 0 or 100
        notes.append(f"{int((~finite).sum())} of {x.size} pairs n/a on either side, left out")
        x, y = x[finite], y[finite]
    if x.size == 0:
        raise ValueError(f"no examples to compare for metric {metric!r}")
    if binary is None:
        binary = bool(np.isin(x, (0.0, 1.0)).all() and np.isin(y, (0.0, 1.0)).all())
    n = int(x.size)
    d = _round(y - x, decimals)
    sign = 1.0 if higher_is_better else -1.0
    n_better, n_worse = int(np.sum(sign * d > 0)), int(np.sum(sign * d < 0))

    low, high, ci_method = bootstrap_ci(
        d, "mean", confidence_level=confidence_level, n_resamples=n_resamples, seed=seed
    )
    all_zero = bool(np.all(d == 0))
    if all_zero:
        notes.append("all differences are zero: no difference")
        w_stat, w_p, t_stat, t_p = 0.0, 1.0, 0.0, 1.0
        dz, dz_low, dz_high = 0.0, 0.0, 0.0
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # normal-approximation warnings for small n with ties
            w = stats.wilcoxon(d, zero_method=WILCOXON_ZERO_METHOD)
            t = stats.ttest_1samp(d, 0.0)
        w_stat, w_p = _finite(w.statistic), float(w.pvalue)
        t_stat, t_p = _finite(t.statistic), float(t.pvalue)
        if math.isnan(t_p):  # n == 1
            t_p = 1.0
            notes.append("t-test undefined (one example)")
        dz = cohens_dz(d)
        if dz is None:
            notes.append("differences are a non-zero constant: d_z undefined (zero spread)")
            dz_low = dz_high = None
        else:
            lo, hi, _ = bootstrap_ci(d, "dz", confidence_level=confidence_level, n_resamples=n_resamples, seed=seed)
            dz_low, dz_high = _finite(lo), _finite(hi)

    result = PairedComparison(
        metric=metric,
        n=n,
        binary=binary,
        mean_baseline=float(np.mean(x)),
        mean_model=float(np.mean(y)),
        mean_diff=float(np.mean(d)),
        ci_low=low,
        ci_high=high,
        ci_method=ci_method,
        wilcoxon_statistic=w_stat,
        wilcoxon_p=min(w_p, 1.0),
        wilcoxon_zero_method=WILCOXON_ZERO_METHOD,
        ttest_statistic=t_stat,
        ttest_p=min(t_p, 1.0),
        cohens_dz=dz,
        dz_ci_low=dz_low,
        dz_ci_high=dz_high,
        n_better=n_better,
        n_worse=n_worse,
        n_tied=n - n_better - n_worse,
        notes=notes,
    )
    if binary:
        result.mcnemar_b, result.mcnemar_c, result.mcnemar_p = mcnemar_exact(x, y)
        result.primary_test, result.primary_p = "mcnemar_exact", result.mcnemar_p
    else:
        result.primary_test, result.primary_p = "wilcoxon", result.wilcoxon_p
    return result


def compare_models(
    baseline_scores: Mapping[str, Sequence[float]],
    model_scores: Mapping[str, Sequence[float]],
    metrics: Sequence[MetricSpec] = METRICS,
    **kwargs,
) -> dict[str, PairedComparison]:
    """Compare one model with the baseline on a family of metrics, with Holm correction across the family.

    Args:
        baseline_scores: metric name → per-example scores of the baseline.
        model_scores: metric name → per-example scores of the model, same example order.
        metrics: the family; metrics missing from either side are skipped (e.g. no reference → no CodeBLEU).
        **kwargs: passed to `compare_paired` (decimals, confidence_level, n_resamples, seed).

    Returns:
        metric name → `PairedComparison`, with `primary_p_holm` and `ttest_p_holm` filled in.
    """
    results: dict[str, PairedComparison] = {}
    for spec in metrics:
        if spec.name not in baseline_scores or spec.name not in model_scores:
            continue
        both = np.isfinite(np.asarray(baseline_scores[spec.name], dtype=float)) & np.isfinite(
            np.asarray(model_scores[spec.name], dtype=float)
        )
        if not both.any():  # n/a for every pair: nothing to compare
            continue
        results[spec.name] = compare_paired(
            baseline_scores[spec.name],
            model_scores[spec.name],
            metric=spec.name,
            binary=spec.binary,
            higher_is_better=spec.higher_is_better,
            **kwargs,
        )
    names = list(results)
    for name, p in zip(names, holm([results[k].primary_p for k in names])):
        results[name].primary_p_holm = p
    for name, p in zip(names, holm([results[k].ttest_p for k in names])):
        results[name].ttest_p_holm = p
    return results


def target_check(
    values: Sequence[float] | np.ndarray,
    threshold: float,
    *,
    metric: str = "metric",
    to_percent: float = 1.0,
    binary: bool = False,
    confidence_level: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
) -> TargetCheck:
    """Check a model's mean against a target with a one-sided bootstrap lower bound.

    Args:
        values: per-example scores, shape `(n,)`, in the metric's own units.
        threshold: target in percent (e.g. 85 for CodeBLEU >= 85).
        to_percent: factor from the metric's units to percent.
        binary: also report the exact one-sided Clopper-Pearson lower bound (more conservative at 0 % and 100 %).
        confidence_level: of the one-sided bound.

    Returns:
        `TargetCheck`; the target counts as met only when the lower bound is at or above the threshold.
    """
    x = np.asarray(values, dtype=float) * to_percent
    low, _, _ = bootstrap_ci(
        x, "mean", confidence_level=confidence_level, alternative="greater", n_resamples=n_resamples, seed=seed
    )
    mean = float(np.mean(x))
    exact = None
    if binary:
        k = int(round(float(np.sum(np.asarray(values, dtype=float)))))
        # A two-sided exact interval at level 1 - 2*alpha has the one-sided (1 - alpha) lower bound as its low end.
        ci = stats.binomtest(k, x.size).proportion_ci(confidence_level=2 * confidence_level - 1, method="exact")
        exact = float(ci.low) * 100.0
    return TargetCheck(
        metric=metric,
        threshold=threshold,
        mean=mean,
        lower_bound=low,
        confidence_level=confidence_level,
        met_point_estimate=mean >= threshold,
        met_lower_bound=bool(low >= threshold),
        exact_lower_bound=exact,
    )


def aggregate_runs(runs: Sequence[Mapping], alpha: float = 0.05) -> dict:
    """Aggregate the results of several training seeds (one `phase2_final_results.json` each) as mean ± sd.

    For each model name and metric: mean ± sample sd (ddof=1; 0 for a single run) over runs of the model's mean
    (in percent), of the difference to the baseline, and of d_z, plus how many runs were significant after Holm.

    Args:
        runs: parsed result files as written by `evaluate_models.py`.
        alpha: a run's comparison counts as significant when its Holm-corrected primary p is below this.

    Returns:
        `{"n_runs": int, "models": {name: {metric: {...}}}}`.
    """
    if not runs:
        raise ValueError("aggregate_runs needs at least one result file")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    collected: dict[str, dict[str, dict[str, list[float]]]] = {}
    for run in runs:
        for model in run["summary"]["models"] if "summary" in run else run["models"]:
            name = model["name"]
            for metric, summary in model.get("summary", {}).items():
                slot = collected.setdefault(name, {}).setdefault(
                    metric, {"mean": [], "mean_diff": [], "cohens_dz": [], "significant": []}
                )
                slot["mean"].append(summary["mean_percent"])
                comp = model.get("comparison", {}).get(metric)
                if comp is not None:
                    scale = METRICS_BY_NAME[metric].to_percent if metric in METRICS_BY_NAME else 1.0
                    slot["mean_diff"].append(comp["mean_diff"] * scale)
                    if comp["cohens_dz"] is not None:
                        slot["cohens_dz"].append(comp["cohens_dz"])
                    slot["significant"].append(float((comp["primary_p_holm"] or 1.0) < alpha))

    def mean_sd(values: list[float]) -> dict[str, float | int | None]:
        if not values:
            return {"mean": None, "sd": None, "n": 0}
        arr = np.asarray(values, dtype=float)
        sd = float(np.std(arr, ddof=1)) if arr.size > 1 else 0.0
        return {"mean": float(np.mean(arr)), "sd": sd, "n": int(arr.size)}

    models: dict[str, dict] = {}
    for name, per_metric in collected.items():
        models[name] = {}
        for metric, slot in per_metric.items():
            models[name][metric] = {
                "mean_percent": mean_sd(slot["mean"]),
                "mean_diff_percent": mean_sd(slot["mean_diff"]),
                "cohens_dz": mean_sd(slot["cohens_dz"]),
                "n_significant": int(sum(slot["significant"])),
                "n_compared": len(slot["significant"]),
            }
    return {"n_runs": len(runs), "models": models}
