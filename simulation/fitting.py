"""Fit a duration distribution to observed hours: which family, which parameters, and why.

Calibration needs one `Distribution` per activity (processing time), per edge (extraneous
delay) and sometimes for the gaps between arrivals. Four parametric families are fitted by
maximum likelihood with scipy (location fixed at 0: a duration starts at zero) and the choice
is made in two steps:

1. **Does a family fit at all?** The Kolmogorov-Smirnov test of each fitted family against the
   sample; a family with p-value < `ALPHA` is rejected. (The parameters were estimated from
   the same sample, which makes the p-value conservative: a rejection is a clear misfit.)
   Below `MIN_TESTED` samples the test has too little power to reject, so every family counts.
2. **Which fitting family?** The lowest BIC (log-likelihood penalised by ln(n) per
   parameter). The KS statistic alone cannot choose: gamma and Weibull contain the
   exponential (shape 1), so on exponential data their extra parameter always buys a slightly
   smaller distance, and the wrong family would win. The likelihood is also far more
   sensitive than the KS distance to the difference between, say, a lognormal and a gamma.

When every family is rejected (a bimodal sample, a sample with a hard cut-off), or there are
fewer than `MIN_PARAMETRIC` samples, the empirical distribution is used: up to
`EMPIRICAL_POINTS` quantiles of the sample, drawn uniformly.

Zeros (instant events, waits that did not happen) are split off first: `zero_share` is the
share of samples at (about) zero and the families are fitted to the positive part. The
model's `Distribution` has no mixture, so callers choose: a `Delay` uses the positive part
with its `probability` scaled by 1 - `zero_share`; an activity uses `distribution`, which is
the positive fit when zeros are negligible and the empirical distribution otherwise.

Everything here is deterministic (no resampling, no random state).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from simulation.model import Distribution

#: A family whose KS p-value is below this is rejected.
ALPHA = 0.01
#: Below this many (positive) samples the KS test cannot reject anything useful.
MIN_TESTED = 30
#: Below this many positive samples no parametric family is fitted: the empirical
#: distribution of so few values is more honest than a two-parameter guess.
MIN_PARAMETRIC = 10
#: The empirical distribution keeps at most this many quantiles of the sample.
EMPIRICAL_POINTS = 500
#: Samples at or below this many hours (half a second) count as zero.
ZERO_H = 0.5 / 3600
#: A zero share below this is ignored by `FitResult.distribution` (the mean moves < 1%).
ZERO_NEGLIGIBLE = 0.01
#: Parametric families, in the order they are listed.
FAMILIES = ("exponential", "lognormal", "gamma", "weibull")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One fitted family: its parameters, the KS test against the sample, AIC and BIC."""

    kind: str
    params: Mapping[str, float]
    ks_statistic: float
    p_value: float
    aic: float
    bic: float

    @property
    def accepted(self) -> bool:
        """Not rejected by the KS test at `ALPHA`."""
        return self.p_value >= ALPHA


@dataclass(frozen=True, slots=True)
class FitResult:
    """The chosen distribution and the evidence for it.

    - `distribution`: describes every sample, zeros included (see the module docstring);
    - `positive`: the chosen fit of the positive samples (fixed 0 when there are none);
    - `zero_share`: share of samples at about zero;
    - `candidates`: every parametric family fitted to the positive samples;
    - `reason`: which kind `positive` is and why it was chosen, in words;
    - `n`: number of samples.
    """

    distribution: Distribution
    positive: Distribution
    zero_share: float
    candidates: tuple[Candidate, ...]
    reason: str
    n: int


def fit_distribution(samples_hours: np.ndarray) -> FitResult:
    """Fit and choose a distribution for durations in hours (rule: module docstring).

    Raises ValueError for an empty sample or negative / non-finite values (a caller's bug:
    durations are measured, never typed in).
    """
    x = np.asarray(samples_hours, dtype=float)
    if x.size == 0:
        raise ValueError("fit_distribution needs at least one sample")
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ValueError("fit_distribution needs finite durations >= 0")
    n = int(x.size)
    positive = np.sort(x[x > ZERO_H])
    zero_share = 1.0 - positive.size / n
    if positive.size == 0:
        zero = Distribution.fixed(0.0)
        return FitResult(zero, zero, 1.0, (), "every sample is zero", n)
    chosen, candidates, reason = _choose(positive)
    if zero_share < ZERO_NEGLIGIBLE:
        overall = chosen
    else:
        overall = _empirical(np.sort(np.where(x > ZERO_H, x, 0.0)))
        reason += f"; {zero_share:.0%} zeros, so all samples are used as an empirical distribution"
    return FitResult(overall, chosen, zero_share, candidates, reason, n)


def _choose(x: np.ndarray) -> tuple[Distribution, tuple[Candidate, ...], str]:
    """The distribution of positive, sorted samples `x`, the candidates and the reason."""
    if x[-1] - x[0] <= 1e-9 * x[-1]:
        return Distribution.fixed(float(x[0])), (), "every positive sample is the same value"
    if x.size < MIN_PARAMETRIC:
        return _empirical(x), (), f"only {x.size} samples: empirical"
    candidates = tuple(c for c in (_fit(kind, x) for kind in FAMILIES) if c is not None)
    fitting = [c for c in candidates if c.accepted or x.size < MIN_TESTED]
    if not fitting:
        best = min(candidates, key=lambda c: c.ks_statistic, default=None)
        found = f" (best {best.kind}: KS p = {best.p_value:.2g})" if best is not None else ""
        return _empirical(x), candidates, f"every family rejected by the KS test{found}: empirical"
    best = min(fitting, key=lambda c: (c.bic, FAMILIES.index(c.kind)))
    reason = (f"{best.kind}: lowest BIC of the families the KS test accepts ({len(fitting)} of "
              f"{len(candidates)}; KS = {best.ks_statistic:.3f}, p = {best.p_value:.2g}, n = {x.size})")
    return Distribution(best.kind, dict(best.params)), candidates, reason


def _fit(kind: str, x: np.ndarray) -> Candidate | None:
    """Maximum-likelihood fit of one family (location 0); None when the fit fails."""
    if kind == "exponential":
        mean = float(x.mean())
        params, dist, k = {"mean": mean}, stats.expon(scale=mean), 1
    elif kind == "lognormal":
        logs = np.log(x)
        mu, sigma = float(logs.mean()), float(logs.std())
        params, dist, k = {"mu": mu, "sigma": sigma}, stats.lognorm(sigma, scale=math.exp(mu)), 2
    elif kind == "gamma":
        shape, _, scale = stats.gamma.fit(x, floc=0)
        params, dist, k = {"shape": float(shape), "scale": float(scale)}, stats.gamma(shape, scale=scale), 2
    else:
        shape, _, scale = stats.weibull_min.fit(x, floc=0)
        params = {"shape": float(shape), "scale": float(scale)}
        dist, k = stats.weibull_min(shape, scale=scale), 2
    if not all(math.isfinite(v) and v > 0 for k_, v in params.items() if k_ != "mu"):
        return None
    loglik = float(np.sum(dist.logpdf(x)))
    if not math.isfinite(loglik):
        return None
    test = stats.kstest(x, dist.cdf)
    return Candidate(kind, params, float(test.statistic), float(test.pvalue),
                     2 * k - 2 * loglik, k * math.log(x.size) - 2 * loglik)


def _empirical(x: np.ndarray) -> Distribution:
    """Sorted samples as an empirical distribution: all of them, or `EMPIRICAL_POINTS`
    evenly spaced quantiles (midpoints, so each stands for an equal share)."""
    if x.size > EMPIRICAL_POINTS:
        probs = (np.arange(EMPIRICAL_POINTS) + 0.5) / EMPIRICAL_POINTS
        x = np.quantile(x, probs)
    return Distribution("empirical", {}, tuple(float(v) for v in x))


__all__ = [
    "ALPHA", "EMPIRICAL_POINTS", "FAMILIES", "MIN_PARAMETRIC", "MIN_TESTED", "ZERO_H",
    "ZERO_NEGLIGIBLE", "Candidate", "FitResult", "fit_distribution",
]
