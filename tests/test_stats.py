"""Paired statistics on synthetic data with known answers."""

import math

import numpy as np
import pytest
from scipy import stats

from dual_codet5.stats import (
    METRICS,
    WILCOXON_ZERO_METHOD,
    aggregate_runs,
    bootstrap_ci,
    cohens_dz,
    compare_models,
    compare_paired,
    holm,
    mcnemar_exact,
    target_check,
)

N_RESAMPLES = 2000  # enough for stable CIs on these sizes, fast on two CI cores


def test_identical_samples_mean_no_difference():
    x = np.random.default_rng(0).uniform(0, 100, size=40)
    res = compare_paired(x, x.copy(), metric="bp", n_resamples=N_RESAMPLES)
    assert res.mean_diff == 0.0
    assert (res.ci_low, res.ci_high) == (0.0, 0.0)
    assert res.wilcoxon_p == 1.0 and res.ttest_p == 1.0 and res.primary_p == 1.0
    assert res.cohens_dz == 0.0 and (res.dz_ci_low, res.dz_ci_high) == (0.0, 0.0)
    assert res.n_tied == 40 and res.n_better == res.n_worse == 0
    assert res.wilcoxon_zero_method == WILCOXON_ZERO_METHOD


def test_float_noise_counts_as_a_tie():
    # 0.1 + 0.2 != 0.3 in floating point; rounding the differences makes these pairs identical
    base = np.array([0.3] * 10)
    model = np.array([0.1 + 0.2] * 10)
    res = compare_paired(base, model, n_resamples=N_RESAMPLES)
    assert res.primary_p == 1.0 and res.cohens_dz == 0.0


def test_fixed_shift_is_significant_with_the_right_sign():
    rng = np.random.default_rng(1)
    base = rng.normal(50, 10, size=60)
    model = base + 5 + rng.normal(0, 2, size=60)  # a fixed shift of +5 with small paired noise
    res = compare_paired(base, model, n_resamples=N_RESAMPLES)
    assert res.mean_diff > 0 and res.ci_low > 0 and res.ci_low < 5 < res.ci_high
    assert res.wilcoxon_p < 1e-6 and res.ttest_p < 1e-6 and res.ttest_statistic > 0
    assert res.cohens_dz > 1.5 and res.dz_ci_low > 1.0
    assert res.n_better == 60
    worse = compare_paired(model, base, n_resamples=N_RESAMPLES)  # same data, reversed: negative effect
    assert worse.mean_diff < 0 and worse.ci_high < 0 and worse.cohens_dz < -1.5 and worse.wilcoxon_p < 1e-6
    # lower is better (e.g. an error rate): the same positive shift counts as worse
    lower = compare_paired(base, model, higher_is_better=False, n_resamples=N_RESAMPLES)
    assert lower.n_worse == 60 and lower.n_better == 0


def test_constant_nonzero_shift_does_not_crash():
    base = np.linspace(0, 1, 12)
    res = compare_paired(base, base + 0.25, n_resamples=N_RESAMPLES)
    assert res.mean_diff == pytest.approx(0.25)
    assert res.ci_low == res.ci_high == pytest.approx(0.25) and res.ci_method == "degenerate"
    assert res.cohens_dz is None and res.dz_ci_low is None  # zero spread: the standardised effect is undefined
    assert res.wilcoxon_p == pytest.approx(2 / 2**12)  # exact: all 12 ranks positive
    assert any("constant" in note for note in res.notes)


def test_cohens_dz_by_hand():
    d = np.array([1.0, 2.0, 3.0, 4.0])
    assert cohens_dz(d) == pytest.approx(2.5 / math.sqrt(5 / 3))
    assert cohens_dz(np.zeros(5)) == 0.0
    assert cohens_dz(np.full(5, 2.0)) is None


def test_holm_on_hand_checked_pvalues():
    # sorted: 0.01*4=0.04, 0.02*3=0.06, 0.03*2=0.06 (monotone), 0.04*1=0.04 -> max(0.06, 0.04)=0.06
    assert holm([0.01, 0.04, 0.03, 0.02]) == pytest.approx([0.04, 0.06, 0.06, 0.06])
    # capped at 1 and None skipped (m counts only real p-values)
    assert holm([0.5, None, 0.2]) == [pytest.approx(0.5), None, pytest.approx(0.4)]
    # 0.8 * 2 = 1.6 -> capped at 1; 0.9 * 1 = 0.9 but monotonicity keeps it at 1
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])
    assert holm([0.001, 0.5]) == pytest.approx([0.002, 0.5])


def test_mcnemar_on_hand_computed_table():
    #            model ok  model fail
    # base ok        5         1   (b = 1)
    # base fail      7         2   (c = 7)
    base = [1] * 5 + [1] * 1 + [0] * 7 + [0] * 2
    model = [1] * 5 + [0] * 1 + [1] * 7 + [0] * 2
    b, c, p = mcnemar_exact(base, model)
    assert (b, c) == (1, 7)
    # exact two-sided: 2 * P(X <= 1 | n=8, 1/2) = 2 * (1 + 8) / 256
    assert p == pytest.approx(18 / 256)
    assert mcnemar_exact([1, 0, 1], [1, 0, 1]) == (0, 0, 1.0)


def test_binary_metric_uses_mcnemar_as_primary():
    base = np.array([1] * 5 + [1] * 1 + [0] * 7 + [0] * 2, dtype=float)
    model = np.array([1] * 5 + [0] * 1 + [1] * 7 + [0] * 2, dtype=float)
    res = compare_paired(base, model, metric="yaml_valid", n_resamples=N_RESAMPLES)
    assert res.binary and res.primary_test == "mcnemar_exact"
    assert res.primary_p == pytest.approx(18 / 256) and (res.mcnemar_b, res.mcnemar_c) == (1, 7)


def test_bca_ci_contains_true_mean():
    # simple case: normal sample around a known mean; BCa 95% CI must cover it and match the t-interval roughly
    x = np.random.default_rng(3).normal(2.0, 1.0, size=200)
    low, high, method = bootstrap_ci(x, n_resamples=N_RESAMPLES, seed=0)
    assert method == "BCa" and low < 2.0 < high
    t_low, t_high = stats.t.interval(0.95, df=199, loc=x.mean(), scale=stats.sem(x))
    assert low == pytest.approx(t_low, abs=0.05) and high == pytest.approx(t_high, abs=0.05)
    # seeded: the same call gives the same interval
    assert bootstrap_ci(x, n_resamples=N_RESAMPLES, seed=0)[:2] == (low, high)


def test_target_check_uses_the_lower_bound():
    x = np.random.default_rng(4).normal(0.86, 0.05, size=30)  # mean ~86 %: above 85 only as a point estimate
    chk = target_check(x, 85.0, to_percent=100.0, n_resamples=N_RESAMPLES)
    assert chk.mean == pytest.approx(x.mean() * 100)
    assert chk.lower_bound < chk.mean
    assert chk.met_lower_bound == (chk.lower_bound >= 85.0)
    clear = target_check(np.full(50, 0.99) + np.linspace(0, 0.01, 50), 85.0, to_percent=100.0, n_resamples=500)
    assert clear.met_lower_bound and clear.met_point_estimate
    valid = target_check(np.ones(20), 95.0, to_percent=100.0, binary=True, n_resamples=500)
    # all 20 valid: bootstrap bound 100 (degenerate), exact one-sided Clopper-Pearson 0.05**(1/20) = 86.1 %
    assert valid.lower_bound == 100.0 and valid.exact_lower_bound == pytest.approx(100 * 0.05 ** (1 / 20))


def test_compare_models_holm_across_family_and_aggregate_runs():
    rng = np.random.default_rng(5)
    n = 30
    base = {m.name: rng.uniform(0, 1, n) for m in METRICS if not m.binary}
    base.update({"yaml_valid": np.ones(n), "schema_valid": (rng.uniform(size=n) > 0.5).astype(float)})
    model = {k: v.copy() for k, v in base.items()}
    model["bp"] = base["bp"] + 0.3 + rng.normal(0, 0.05, n)  # one real effect in the family
    comps = compare_models(base, model, n_resamples=500)
    assert set(comps) == {m.name for m in METRICS}
    expected = holm([comps[k].primary_p for k in comps])
    assert [comps[k].primary_p_holm for k in comps] == expected
    assert comps["bp"].primary_p_holm < 0.05 and comps["quality"].primary_p_holm == 1.0

    def run(shift: float) -> dict:
        return {
            "models": [
                {"name": "base", "summary": {"bp": {"mean_percent": 50.0}}},
                {
                    "name": "dual",
                    "summary": {"bp": {"mean_percent": 50.0 + shift}},
                    "comparison": {"bp": {"mean_diff": shift, "cohens_dz": 1.0, "primary_p_holm": 0.01}},
                },
            ]
        }

    agg = aggregate_runs([run(2.0), run(4.0)])
    assert agg["n_runs"] == 2
    dual = agg["models"]["dual"]["bp"]
    assert dual["mean_percent"]["mean"] == pytest.approx(53.0)
    assert dual["mean_percent"]["sd"] == pytest.approx(math.sqrt(2.0))
    assert dual["mean_diff_percent"]["mean"] == pytest.approx(3.0)
    assert dual["n_significant"] == 2 and agg["models"]["base"]["bp"]["n_compared"] == 0


def test_na_pairs_are_left_out_not_scored():
    # NaN = no check of the category applies (n/a): such pairs are counted apart, never compared as 0 or 100
    base = [50.0, float("nan"), 40.0, 60.0, float("nan")]
    model = [60.0, 70.0, 50.0, 70.0, float("nan")]
    comp = compare_paired(base, model, metric="bp", n_resamples=199)
    assert comp.n == 3 and comp.mean_diff == pytest.approx(10.0)
    assert any("2 of 5 pairs n/a" in note for note in comp.notes)
    # a metric that is n/a for every pair is skipped by compare_models
    assert compare_models({"bp": [float("nan")] * 2}, {"bp": [1.0, 2.0]}) == {}


def test_means_leave_na_examples_out():
    # a mean over examples with no applicable check must not be NaN (or 0 / 100): n/a is counted apart
    from dual_codet5.reporting import _pct_row
    from dual_codet5.stats import METRICS

    spec = next(m for m in METRICS if m.name == "bp")
    row = _pct_row("m", spec, np.array([50.0, float("nan"), 70.0]), 0.95, 199, 0)
    assert (row["mean"], row["n"], row["n_na"]) == (60.0, 2, 1)
    assert _pct_row("m", spec, np.array([float("nan")]), 0.95, 199, 0)["mean"] is None
