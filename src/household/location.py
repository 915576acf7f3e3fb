"""Asset location: which account of a household holds which unit, so that the household pays
the least tax a year for the same overall targets.

Tax drag model (``tax_drag``)
-----------------------------
Only taxable accounts pay tax each year. Per unit of value held there, a unit costs
(``drag_rate``)::

    income_yield   x short_term_rate        interest, taxed as ordinary income
  + dividend_yield x long_term_rate         qualified dividends
  + min(turnover, 1) x max(expected_return, 0) x short_term_rate

The last term is the gain a trading sleeve realises: a documented simplification that the
fraction of a year's gain realised equals the fraction of the holdings sold (turnover), capped
at 1 (in the long run a sleeve cannot realise more gain than it earns), taxed as short term.
Traditional IRAs, 401ks and Roth IRAs have no yearly drag: a traditional account's tax on
withdrawal is deferred and ignored here; a Roth's growth is never taxed. State taxes (from
which Treasury interest is exempt) are not modelled.

Location rule (``locate_assets``, method ``tax_aware``)
------------------------------------------------------
1. Sheltered room (traditional IRA + 401k + Roth values, cash included) is filled with the
   least tax-efficient units first: highest ``drag_rate`` first, ties broken by the higher
   expected return, then by name. This placement minimises ``tax_drag`` exactly (a fractional
   knapsack in which every unit of sheltered room is worth the drag rate of what it holds).
2. Within the sheltered units, the Roth room takes the highest expected return first (a Roth
   never taxes growth); traditional IRAs and 401ks take the rest (bonds, high-turnover sleeves).
3. What is left of each unit goes into the taxable accounts.
Accounts of one type hold the same mix, scaled to their values. ``pro_rata`` (the baseline)
gives every account the household's targets scaled to its value.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Literal, Optional

import numpy as np
import pandas as pd
from pydantic import Field

from src.errors import UnknownUnitError
from src.market.data import CRYPTO_QUOTE, HistoricalMarketData
from src.models.base import StrictModel
from src.scripts.build_strategy_registry import STRATEGIES, group_prices
from src.tax.models import AccountType, TaxSettings
from src.utils.market_data import GROUPS, listed_returns, load_prices, treasury_yields
from src.utils.performance import compute_metrics

AssetClass = Literal["bond", "stock", "sleeve", "commodity", "crypto", "cash"]
Placement = dict[str, dict[str, float]]
GROUP_CLASSES: dict[str, AssetClass] = {
    "stocks": "stock", "index": "stock", "factor_etfs": "stock", "spy": "stock",
    "crypto": "crypto", "bonds": "bond", "bills": "cash", "commodities": "commodity",
}
YIELD_COLUMNS = {"UST10Y": "10year", "UST5Y": "5year", "UST3M": "3month"}
EQUITY_SLEEVE_GROUPS = ("stocks", "index")  # registry price groups whose holdings pay dividends
DEFERRED = (AccountType.TRADITIONAL_IRA, AccountType.K401)
TOTAL_TOLERANCE = 1e-9  # relative difference allowed between the targets' and the accounts' totals


class UnitTaxProfile(StrictModel):
    """What one unit costs in tax when held in a taxable account, from the shipped data."""

    unit: str = Field(min_length=1, description="Unit (symbol or registry strategy id).")
    asset_class: AssetClass = Field(description="bond, stock, sleeve, commodity, crypto or cash.")
    income_yield: float = Field(ge=0.0, description="Annual interest as a fraction of value, taxed as ordinary "
                                                    "income each year (bonds and bills).")
    dividend_yield: float = Field(ge=0.0, description="Annual qualified dividends as a fraction of value, taxed "
                                                      "at the long-term rate each year (stocks, equity sleeves).")
    turnover: float = Field(ge=0.0, description="Annual one-sided fraction of the holdings sold (gains realised).")
    expected_return: float = Field(description="Trailing geometric annualised total return (fraction).")
    notes: list[str] = Field(default_factory=list, description="How each figure was derived, or why it is 0.")


class LocationReport(StrictModel):
    """Both placements of a household's targets and their estimated yearly tax drag."""

    rule: str = Field(description="The tax-aware location rule, in words.")
    drag_rates: dict[str, float] = Field(description="Tax a year per unit of value held in a taxable account.")
    pro_rata: Placement = Field(description="Account -> unit -> value: every account holds the targets' mix.")
    tax_aware: Placement = Field(description="Account -> unit -> value placed by the location rule.")
    drag_pro_rata: float = Field(ge=0.0, description="Estimated tax a year of the pro-rata placement (currency).")
    drag_tax_aware: float = Field(ge=0.0, description="Estimated tax a year of the tax-aware placement (currency).")
    saving: float = Field(description="drag_pro_rata - drag_tax_aware (currency a year).")
    profiles: dict[str, UnitTaxProfile] = Field(description="The unit profiles used, with their notes.")


@lru_cache(maxsize=None)
def _symbol_classes() -> dict[str, AssetClass]:
    return {symbol: GROUP_CLASSES[group] for group in GROUPS for symbol in load_prices(group).columns}


def _asset_class(unit: str, market: HistoricalMarketData) -> AssetClass:
    if market.registry.has_strategy(unit):
        return "sleeve"
    classes = _symbol_classes()
    symbol = unit.split("/")[0] if unit.endswith(f"/{CRYPTO_QUOTE}") else unit
    if symbol not in classes:
        raise UnknownUnitError(f"unit {unit!r} is neither a registered strategy nor a symbol with prices")
    return classes[symbol]


def _trailing_return(unit: str, market: HistoricalMarketData, as_of: pd.Timestamp,
                     lookback_years: int) -> tuple[float, str]:
    prices = market.price_series(unit).loc[:as_of].dropna()
    if len(prices) < 3:
        return 0.0, f"expected_return: unknown (fewer than 3 prices of {unit} up to {as_of.date()}), 0 used"
    before = prices.loc[: prices.index[-1] - pd.DateOffset(years=lookback_years)]
    window = prices.loc[before.index[-1]:] if len(before) else prices
    ann = compute_metrics(window.pct_change().iloc[1:]).annualized_return
    short = "" if len(before) else f" (history starts {window.index[0].date()}: shorter than {lookback_years} years)"
    stale = "" if window.index[-1] == as_of else " (its last price on or before as_of)"
    source = "NAV (registry returns)" if market.registry.has_strategy(unit) else "shipped prices"
    return ann, (f"expected_return: trailing geometric annualised return of {unit}'s {source} "
                 f"{window.index[0].date()}..{window.index[-1].date()}{stale}{short}, annualised on its own calendar")


def _last_yield(unit: str, as_of: pd.Timestamp) -> tuple[float, str]:
    column = YIELD_COLUMNS[unit]
    published = treasury_yields()[column].loc[:as_of].dropna()
    if published.empty:
        return 0.0, f"income_yield: unknown (no shipped {column} yield on or before {as_of.date()}), 0 used"
    day = published.index[-1]
    when = "on as_of" if day == as_of else f"last published on {day.date()}, before as_of {as_of.date()}"
    return float(published.iloc[-1]), f"income_yield: the shipped {column} Treasury yield ({when}), as interest"


def _index_dividend_yield(as_of: pd.Timestamp) -> tuple[float, str]:
    both = pd.concat([load_prices("spy")["SPY"], load_prices("index")["SP500"]], axis=1, join="inner")
    both = both.dropna().loc[:as_of]
    if both.empty or both.index[0] > both.index[-1] - pd.DateOffset(years=1):
        return 0.0, f"dividend_yield: unknown (no trailing year of SPY total return up to {as_of.date()}), 0 used"
    end = both.index[-1]
    start = both.loc[: end - pd.DateOffset(years=1)].index[-1]
    ratio = (both.loc[end] / both.loc[start]).to_numpy()
    value = float(ratio[0] / ratio[1] - 1.0)
    late = "" if end == as_of else (" (the last common day of SPY and the index on or before as_of; SPY's "
                                    "shipped series ends 2018-04-27: later, its last trailing year is used)")
    note = (f"dividend_yield: the S&P 500's trailing-year dividend yield, SPY total return over the S&P 500 price "
            f"index {start.date()}..{end.date()}{late}, net of SPY's fees, applied to the unit as the index's yield")
    if value < 0.0:
        return 0.0, note + f"; the estimate {value:.4%} is negative, 0 used"
    return value, note


def _sales_and_exposure(weights: pd.DataFrame, returns: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """One-sided sales (fraction of value) and invested fraction per day of a rule's weights.

    As ``rules.weights_to_returns``: a fully decided frame holds its targets every day; all-NaN
    rows are no decision and the holdings drift with their returns until the next one.
    """
    weights = weights.reindex(returns.index)
    decided = weights.notna().any(axis=1)
    if not decided.any():
        return pd.Series(dtype=float), pd.Series(dtype=float)
    weights, returns = weights.loc[decided.idxmax():], returns.loc[decided.idxmax():]
    if weights.notna().any(axis=1).all():
        held = weights.fillna(0.0)
        return (held.shift(1, fill_value=0.0) - held).clip(lower=0.0).sum(axis=1), held.sum(axis=1)
    target, r = weights.to_numpy(dtype=float), np.nan_to_num(returns.to_numpy(dtype=float))
    held = np.zeros(target.shape[1])
    sales, exposure = np.zeros(len(target)), np.zeros(len(target))
    for t in range(len(target)):
        if held.any():
            held = held * (1.0 + r[t]) / (1.0 + float(held @ r[t]))
        if not np.isnan(target[t]).all():
            new = np.nan_to_num(target[t])
            sales[t], held = float(np.clip(held - new, 0.0, None).sum()), new
        exposure[t] = held.sum()
    return pd.Series(sales, index=weights.index), pd.Series(exposure, index=weights.index)


def _sleeve_trading(unit: str, market: HistoricalMarketData, as_of: pd.Timestamp,
                    lookback_years: int) -> tuple[Optional[float], float, bool, str]:
    """(turnover or None if unknown, mean invested fraction, holds equities, note) of a sleeve."""
    record = market.registry.get_strategy(unit)
    spec = STRATEGIES.get(unit)
    if spec is None or {k: float(v) for k, v in spec[5].items()} != record.parameters:
        return None, 0.0, False, (f"turnover: unknown ({unit}'s rule and parameters are not those of "
                                  f"src/scripts/build_strategy_registry.py), 0 used")
    _, _, group, rule, module, _ = spec
    prices = group_prices(group).loc[:as_of]
    if list(prices.columns) != list(record.universe) or len(prices) < 2:
        return None, 0.0, False, f"turnover: unknown (no prices of {unit}'s universe up to {as_of.date()}), 0 used"
    sales, exposure = _sales_and_exposure(rule(prices), listed_returns(prices))
    if sales.empty:
        return None, 0.0, False, f"turnover: unknown ({unit} made no decision up to {as_of.date()}), 0 used"
    bound = sales.index[-1] - pd.DateOffset(years=lookback_years)
    window = sales.loc[sales.index > bound]
    years = (window.index[-1] - max(bound, sales.index[0])).days / 365.25
    if years <= 0.0:
        return None, 0.0, False, f"turnover: unknown ({unit} made no decision up to {as_of.date()}), 0 used"
    note = (f"turnover: one-sided sales of {unit}'s own weights ({module}{dict(record.parameters)} re-run on the "
            f"shipped prices up to as_of) {window.index[0].date()}..{window.index[-1].date()}, per year")
    return float(window.sum() / years), float(exposure.loc[window.index].mean()), group in EQUITY_SLEEVE_GROUPS, note


def unit_tax_profiles(units: list[str], *, market: HistoricalMarketData, as_of: date,
                      lookback_years: int = 5) -> dict[str, UnitTaxProfile]:
    """Tax profile of each unit from the shipped data up to ``as_of`` (no look-ahead).

    Parameters
    ----------
    units : list of str
        Plain-asset symbols and registry strategy ids.
    market : HistoricalMarketData
        Prices and the registry (sleeves' NAVs).
    as_of : datetime.date
        Only data dated on or before this day is read.
    lookback_years : int
        Trailing window of ``expected_return`` and of a sleeve's turnover.

    Returns
    -------
    dict of str to UnitTaxProfile
        Bonds and bills: interest = the shipped yield of their maturity on ``as_of`` (or the last
        published before it), no turnover. Stocks (the 20 stocks, SP500, SPY, the factor ETFs):
        dividends = the index's trailing-year yield, no turnover. Sleeves: turnover from their own
        rule's weights re-run on the shipped prices, dividends = the index's yield times their
        mean invested fraction if they hold stocks. Crypto and WTI: no income, no turnover. Every
        expected return is trailing. A figure that cannot be derived is 0 with a note saying so.

    Raises
    ------
    UnknownUnitError
        If a unit is neither a registered strategy nor a symbol with shipped prices.
    """
    if lookback_years < 1:
        raise ValueError(f"lookback_years={lookback_years} must be at least 1")
    stamp = pd.Timestamp(as_of).normalize()
    out = {}
    for unit in units:
        kind = _asset_class(unit, market)
        expected, note = _trailing_return(unit, market, stamp, lookback_years)
        figures, notes = {"income_yield": 0.0, "dividend_yield": 0.0, "turnover": 0.0}, [note]
        if kind in ("bond", "cash"):
            figures["income_yield"], note = _last_yield(unit, stamp)
            notes += [note, "turnover: 0 (held as a fund of the constant-maturity bond; its roll's gains and "
                            "losses are not counted)"]
        elif kind == "stock":
            figures["dividend_yield"], note = _index_dividend_yield(stamp)
            notes += [note, "turnover: 0 (bought and held: no gains realised)"]
            if unit == "SP500":
                notes.append("expected_return: SP500 is a price index: its dividends are not in it")
        elif kind == "sleeve":
            turnover, invested, equity, note = _sleeve_trading(unit, market, stamp, lookback_years)
            figures["turnover"], notes = turnover or 0.0, notes + [note, "turnover: sales taxed as short-term gains"]
            if turnover is None:
                notes.append("dividend_yield: unknown (the sleeve's holdings are not known), 0 used")
            elif equity:
                dividend, note = _index_dividend_yield(stamp)
                figures["dividend_yield"] = dividend * invested
                notes.append(f"{note}, times the sleeve's mean invested fraction {invested:.3f}")
            else:
                notes.append("dividend_yield: 0 (holds crypto: no income)")
        else:
            notes.append(f"income_yield, dividend_yield, turnover: 0 ({kind}: no income; held, not traded)")
        out[unit] = UnitTaxProfile(unit=unit, asset_class=kind, expected_return=expected, notes=notes, **figures)
    return out


def drag_rate(profile: UnitTaxProfile, tax: TaxSettings) -> float:
    """Estimated tax a year per unit of value held in a taxable account (module docstring)."""
    realised = min(profile.turnover, 1.0) * max(profile.expected_return, 0.0)
    return (profile.income_yield * tax.short_term_rate + profile.dividend_yield * tax.long_term_rate
            + realised * tax.short_term_rate)


def tax_drag(placement: Placement, account_types: dict[str, AccountType], profiles: dict[str, UnitTaxProfile],
             tax: TaxSettings) -> float:
    """Estimated tax a year (currency) of holding ``placement`` (account -> unit -> value).

    Only taxable accounts count: each unit's value there times its ``drag_rate``. Traditional
    IRAs and 401ks defer tax to withdrawal (ignored here); a Roth never taxes growth.

    Raises
    ------
    ValueError
        If an account has no type or a unit has no profile.
    """
    total = 0.0
    for account, holdings in placement.items():
        if account not in account_types:
            raise ValueError(f"placement[{account!r}]: the account has no type in account_types")
        for unit, value in holdings.items():
            if unit not in profiles:
                raise ValueError(f"placement[{account!r}][{unit!r}]: the unit has no tax profile")
            if AccountType(account_types[account]).taxable:
                total += value * drag_rate(profiles[unit], tax)
    return total


def _fill(order: list[str], available: dict[str, float], room: float) -> dict[str, float]:
    """Take from ``available`` in ``order`` until ``room`` is used."""
    taken = {}
    for unit in order:
        taken[unit] = min(available[unit], max(room, 0.0))
        room -= taken[unit]
    return taken


def _check_inputs(target_values: dict[str, float], account_values: dict[str, float],
                  account_types: dict[str, AccountType], profiles: dict[str, UnitTaxProfile]) -> None:
    for name, values in (("target_values", target_values), ("account_values", account_values)):
        bad = {k: v for k, v in values.items() if not np.isfinite(v) or v < 0.0}
        if bad:
            raise ValueError(f"{name}: {bad} must be finite and non-negative")
    if missing := sorted(set(account_values) - set(account_types)):
        raise ValueError(f"account_types: accounts {missing} have no type")
    if missing := sorted(set(target_values) - set(profiles)):
        raise ValueError(f"profiles: units {missing} have no tax profile")
    targets, capacity = sum(target_values.values()), sum(account_values.values())
    if abs(targets - capacity) > TOTAL_TOLERANCE * max(targets, capacity, 1.0):
        raise ValueError(f"target_values sum to {targets:,.2f} but account_values to {capacity:,.2f}: "
                         f"the household's targets must use exactly its accounts' value")


def locate_assets(target_values: dict[str, float], account_values: dict[str, float],
                  account_types: dict[str, AccountType], profiles: dict[str, UnitTaxProfile], *,
                  tax: Optional[TaxSettings] = None,
                  method: Literal["tax_aware", "pro_rata"] = "tax_aware") -> Placement:
    """Split the household's target value per unit across its accounts.

    Parameters
    ----------
    target_values : dict of str to float
        Household target value per unit; sums to the accounts' total.
    account_values : dict of str to float
        Each account's value, cash included: what it can hold.
    account_types : dict of str to AccountType
        Tax treatment of each account.
    profiles : dict of str to UnitTaxProfile
        From ``unit_tax_profiles``.
    tax : TaxSettings, optional
        Rates ranking the units' drag (defaults: 35% short term, 15% long term).
    method : {"tax_aware", "pro_rata"}
        The location rule of the module docstring, or every account at the targets' mix.

    Returns
    -------
    dict of str to dict of str to float
        Account -> unit -> value, every unit in every account (0 where not held). Each account's
        values sum to its value and each unit's to its target (up to rounding).

    Raises
    ------
    ValueError
        On a negative or non-finite value, unequal totals, an untyped account, a unit without a
        profile, or an unknown method.
    """
    _check_inputs(target_values, account_values, account_types, profiles)
    units, total = list(target_values), sum(account_values.values())
    if method == "pro_rata":
        return {a: {u: target_values[u] * v / total if total > 0 else 0.0 for u in units}
                for a, v in account_values.items()}
    if method != "tax_aware":
        raise ValueError(f"method={method!r} is not 'tax_aware' or 'pro_rata'")
    tax = tax if tax is not None else TaxSettings()
    rate = {u: drag_rate(profiles[u], tax) for u in units}
    expected = {u: profiles[u].expected_return for u in units}
    kind = {a: AccountType(t) for a, t in account_types.items() if a in account_values}
    room = {bucket: sum(v for a, v in account_values.items() if _bucket(kind[a]) == bucket)
            for bucket in ("deferred", "roth", "taxable")}
    sheltered = _fill(sorted(units, key=lambda u: (-rate[u], -expected[u], u)), target_values,
                      room["deferred"] + room["roth"])
    roth = _fill(sorted(units, key=lambda u: (-expected[u], -rate[u], u)), sheltered, room["roth"])
    buckets = {"roth": roth, "deferred": {u: sheltered[u] - roth[u] for u in units},
               "taxable": {u: target_values[u] - sheltered[u] for u in units}}
    return {a: {u: buckets[_bucket(kind[a])][u] * v / room[_bucket(kind[a])] if v > 0 else 0.0 for u in units}
            for a, v in account_values.items()}


def _bucket(account_type: AccountType) -> str:
    if account_type in DEFERRED:
        return "deferred"
    return "roth" if account_type == AccountType.ROTH_IRA else "taxable"


def location_report(target_values: dict[str, float], account_values: dict[str, float],
                    account_types: dict[str, AccountType], profiles: dict[str, UnitTaxProfile],
                    tax: Optional[TaxSettings] = None) -> LocationReport:
    """Both placements of the targets and their estimated tax drag a year (before: pro rata, after: tax aware).

    Parameters and raises as ``locate_assets``; ``tax`` defaults to ``TaxSettings()``.
    """
    tax = tax if tax is not None else TaxSettings()
    used = {u: profiles[u] for u in target_values if u in profiles}
    placements = {m: locate_assets(target_values, account_values, account_types, profiles, tax=tax, method=m)
                  for m in ("pro_rata", "tax_aware")}
    drags = {m: tax_drag(p, account_types, used, tax) for m, p in placements.items()}
    return LocationReport(
        rule=("sheltered room (traditional IRA, 401k, Roth) takes the highest tax drag per unit of value first "
              "(ties: higher expected return); within it the Roth takes the highest expected return; the rest "
              "is taxable; accounts of one type hold the same mix"),
        drag_rates={u: drag_rate(p, tax) for u, p in used.items()},
        pro_rata=placements["pro_rata"], tax_aware=placements["tax_aware"],
        drag_pro_rata=drags["pro_rata"], drag_tax_aware=drags["tax_aware"],
        saving=drags["pro_rata"] - drags["tax_aware"], profiles=used)
