"""Risk-parity solver: this project's Newton solver beside skfolio and Riskfolio-Lib.

Run with ``make bench`` (peers come from ``benchmarks/requirements.txt`` into ``.venv-bench``).
One run measures all three solvers on the same covariance matrices and prints, per N, each
solver's best wall time, the speed ratio, and the worst absolute deviation of the relative risk
contributions from the (equal) budgets.

The matrices are sample covariances (ddof=1, what both peers estimate from returns) of real
daily returns: the 20 S&P 500 stocks shipped in ``src/data/market``, cut into consecutive
500-day eras; era k of stock j is one column, so N = 20, 100 and 300 use 1, 5 and 15 eras of
the same 500 rows. Every matrix is positive definite (500 rows > 300 columns). Target: at
least 30x faster than both peers at N = 300 with contributions within 1e-10 of the budgets.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from src.engines.risk_budget import risk_budget_weights, risk_contributions  # noqa: E402
from src.utils.market_data import load_prices, simple_returns  # noqa: E402

ROWS = 500
SIZES = (20, 100, 300)


def real_returns(n: int) -> pd.DataFrame:
    """``ROWS`` x ``n`` real daily returns: 20 stocks x (n / 20) consecutive eras."""
    daily = simple_returns(load_prices("stocks"))
    eras = n // 20
    blocks = []
    for k in range(eras):
        block = daily.iloc[len(daily) - (k + 1) * ROWS: len(daily) - k * ROWS].to_numpy()
        blocks.append(pd.DataFrame(block, columns=[f"{c}_{k}" for c in daily.columns]))
    return pd.concat(blocks, axis=1)


def best_time(fn, repeats: int) -> tuple[float, np.ndarray]:
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, np.asarray(out, dtype=float)


def ours(x: pd.DataFrame, cov: np.ndarray):
    return lambda: risk_budget_weights(cov)


def skfolio_rb(x: pd.DataFrame, cov: np.ndarray):
    from skfolio import RiskMeasure
    from skfolio.optimization import RiskBudgeting

    def run():
        model = RiskBudgeting(risk_measure=RiskMeasure.VARIANCE)
        model.fit(x)
        return model.weights_

    return run


def riskfolio_rp(x: pd.DataFrame, cov: np.ndarray):
    import riskfolio as rp

    def run():
        port = rp.Portfolio(returns=x)
        port.assets_stats(method_mu="hist", method_cov="hist")
        w = port.rp_optimization(model="Classic", rm="MV", rf=0, b=None, hist=True)
        return w.to_numpy().ravel()

    return run


def main() -> int:
    warnings.filterwarnings("ignore")
    solvers = {"this project": (ours, 20), "skfolio RiskBudgeting": (skfolio_rb, 3),
               "Riskfolio-Lib rp_optimization": (riskfolio_rp, 3)}
    print(__doc__.split("\n\n")[2].replace("\n", " "), "\n")
    print(f"{'N':>4}  {'solver':<32}{'best time':>12}{'ours is x faster':>18}{'max |RC - b|':>15}")
    verdicts = []
    for n in SIZES:
        x = real_returns(n)
        cov = np.cov(x.to_numpy(), rowvar=False, ddof=1)
        budgets = np.full(n, 1.0 / n)
        results = {}
        for name, (factory, repeats) in solvers.items():
            seconds, w = best_time(factory(x, cov), repeats)
            err = float(np.max(np.abs(risk_contributions(w, cov) - budgets)))
            results[name] = (seconds, err)
        base = results["this project"][0]
        for name, (seconds, err) in results.items():
            ratio = "" if name == "this project" else f"{seconds / base:,.0f}x"
            print(f"{n:>4}  {name:<32}{seconds * 1e3:>10.2f}ms{ratio:>18}{err:>15.2e}")
        if n == 300:
            slowest_peer = min(s for k, (s, _) in results.items() if k != "this project")
            verdicts.append((slowest_peer / base, results["this project"][1]))
    ratio, err = verdicts[0]
    ok = ratio >= 30 and err <= 1e-10
    print(f"\nN=300: {ratio:,.0f}x faster than the faster peer; max |RC - b| = {err:.1e}; "
          f"target (>= 30x and <= 1e-10): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
