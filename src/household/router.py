"""Household routing (pure, on the tax ledger's lots): which account trades what, and why.

``household`` routing treats the accounts as one portfolio:

- each unit's household target value is its weight times the household's total;
- a unit above target is sold where the sale costs least: tax-deferred accounts (no tax) first,
  then taxable ones by the gain per unit their lots would realise (losses first);
- a unit below target is bought where the asset-location rule places it, within each account's
  own cash (money cannot move between an IRA and a taxable account): bonds and high-turnover
  sleeves first in traditional IRAs and 401ks (their income and trading gains are taxed
  there only on withdrawal), stocks first in the Roth (the highest expected growth is never
  taxed), then the rest (``PREFERENCE``);
- a deposit (``sells=False``) only buys: the household's most underweight units, in the
  accounts with cash;
- every trade is checked across all accounts against the wash-sale rule
  (``src.tax.prevention.check_plan``): a loss sale while another account bought the same
  symbol in the window is sold from other lots or deferred, a buy that would wash another
  account's loss (an IRA purchase makes it lost for good) is deferred; each decision is in the
  plan.

``each_account`` routing rebalances every account to the targets on its own: the baseline.
"""

from __future__ import annotations

from datetime import date

from src.household.models import HouseholdPlan, HouseholdTrade
from src.models.trading_models import FeeModel, OrderSide
from src.tax.ledger import TaxLedger
from src.tax.models import AccountType
from src.tax.prevention import PlannedTrade, check_plan, route_sell

PREFERENCE = {
    "bond": (AccountType.TRADITIONAL_IRA, AccountType.K401, AccountType.ROTH_IRA, AccountType.TAXABLE),
    "sleeve": (AccountType.TRADITIONAL_IRA, AccountType.K401, AccountType.ROTH_IRA, AccountType.TAXABLE),
    "commodity": (AccountType.TRADITIONAL_IRA, AccountType.K401, AccountType.TAXABLE, AccountType.ROTH_IRA),
    "stock": (AccountType.ROTH_IRA, AccountType.TAXABLE, AccountType.TRADITIONAL_IRA, AccountType.K401),
    "crypto": (AccountType.ROTH_IRA, AccountType.TAXABLE, AccountType.TRADITIONAL_IRA, AccountType.K401),
}


def _preference(unit: str, classes: dict[str, str], drag_rates: dict[str, float] | None) -> tuple:
    if drag_rates and unit in drag_rates:
        median = sorted(drag_rates.values())[len(drag_rates) // 2]
        return PREFERENCE["bond"] if drag_rates[unit] > median else PREFERENCE["stock"]
    return PREFERENCE[classes.get(unit, "stock")]


def account_values(ledger: TaxLedger, cash: dict[str, float], prices: dict[str, float]) -> dict[str, float]:
    """Cash plus holdings at ``prices`` per account."""
    return {a: c + sum(ledger.units(a, u) * p for u, p in prices.items()) for a, c in cash.items()}


def route(*, day: date, targets: dict[str, float], ledger: TaxLedger, cash: dict[str, float],
          prices: dict[str, float], classes: dict[str, str], fee_model: FeeModel, min_trade_size: float,
          routing: str, sells: bool = True, drag_rates: dict[str, float] | None = None) -> HouseholdPlan:
    """The household's trades for ``targets`` (see the module docstring). With ``drag_rates`` (tax a
    year per unit of value in a taxable account, from the location report) a unit whose drag is
    above the median is bought first in tax-deferred accounts and one below first in the Roth
    and taxable ones, as the location rule placed them; without, by asset class (``PREFERENCE``)."""
    values = account_values(ledger, cash, prices)
    total = sum(values.values())
    types = {a: ledger.account(a).account_type for a in cash}
    planned: list[HouseholdTrade] = []
    skipped: list[str] = []
    if routing == "each_account":
        for account, value in values.items():
            for unit, weight in targets.items():
                held = ledger.units(account, unit) * prices[unit]
                delta = weight * value - held
                if abs(delta) >= min_trade_size * value and (sells or delta > 0):
                    side = OrderSide.BUY if delta > 0 else OrderSide.SELL
                    planned.append(HouseholdTrade(account=account, unit=unit, side=side, units=abs(delta) / prices[unit],
                                                  price=prices[unit], reason="this account to target"))
    else:
        held = {u: sum(ledger.units(a, u) for a in cash) * prices[u] for u in targets}
        deltas = {u: targets[u] * total - held[u] for u in targets}
        if sells:
            for unit, delta in deltas.items():
                if delta < 0 and -delta >= min_trade_size * total:
                    for t in _least_tax_sells(ledger, unit, -delta / prices[unit], prices[unit], day, list(cash)):
                        kind = "tax-deferred" if not types[t.account_id].taxable else "taxable"
                        planned.append(HouseholdTrade(account=t.account_id, unit=unit, side=OrderSide.SELL,
                                                      units=t.units, price=prices[unit],
                                                      reason=f"household overweight; sold in a {kind} account first"))
        rate = 1.0 + fee_model.bps / 10_000.0
        free = dict(cash)
        for t in planned:  # sale proceeds stay in their account
            free[t.account] += t.notional * (1.0 - fee_model.bps / 10_000.0) - fee_model.fixed
        for unit, delta in sorted(deltas.items(), key=lambda kv: -kv[1] / max(targets[kv[0]], 1e-12)):
            if delta < min_trade_size * total:
                continue
            order = _preference(unit, classes, drag_rates)
            for account in sorted(cash, key=lambda a: (order.index(types[a]), a)):
                spend = min(delta, max(0.0, (free[account] - fee_model.fixed) / rate))
                if spend < min_trade_size * min(total, values[account]) or spend <= 0:
                    continue
                free[account] -= spend * rate + fee_model.fixed
                delta -= spend
                planned.append(HouseholdTrade(account=account, unit=unit, side=OrderSide.BUY, units=spend / prices[unit],
                                              price=prices[unit], reason=f"household underweight; placed in "
                                              f"{types[account].value} (asset location: {classes.get(unit, 'stock')})"))
            if delta >= min_trade_size * total:
                skipped.append(f"{unit}: {delta:,.2f} not bought: no account has the cash (cash cannot move "
                               f"between accounts)")
    return _checked(day, planned, skipped, ledger, prices)


def _least_tax_sells(ledger: TaxLedger, unit: str, units: float, price: float, day: date,
                     accounts: list[str]) -> list[PlannedTrade]:
    """A household sale split across accounts where it costs the least tax: tax-deferred accounts
    (no tax) first, then taxable ones by the gain per unit their cheapest lots would realise
    (a loss first); ``route_sell``'s split, reordered."""
    def gain_per_unit(account: str) -> float:
        held = ledger.units(account, unit)
        if held <= 0 or not ledger.account(account).account_type.taxable:
            return float("-inf")  # tax-deferred: no tax either way
        picks = ledger.select_lots(account_id=account, symbol=unit, units=held, price=price, trade_date=day)
        return sum((price - lot.basis_per_unit) * n for lot, n in picks) / held

    order = sorted(accounts, key=lambda a: (gain_per_unit(a), a))
    left, out = units, []
    for account in order:
        take = min(ledger.units(account, unit), left)
        if take > 1e-12:
            out.append(PlannedTrade(account_id=account, symbol=unit, side=OrderSide.SELL, units=take, price=price))
            left -= take
    if left > 1e-9 * max(1.0, units):  # more than the household holds: route_sell says so
        return route_sell(ledger, unit, units, price)
    return out


def _checked(day: date, planned: list[HouseholdTrade], skipped: list[str], ledger: TaxLedger,
             prices: dict[str, float]) -> HouseholdPlan:
    """The plan after the household wash-sale check (sells first)."""
    trades = [PlannedTrade(account_id=t.account, symbol=t.unit, side=t.side, units=t.units, price=t.price)
              for t in planned]
    decisions = check_plan(ledger, trades, day, prices)
    kept: list[HouseholdTrade] = []
    notes: list[str] = []
    for trade, decision in zip(planned, decisions):
        if decision.action == "keep":
            kept.append(trade)
            continue
        notes.append(f"{day} {trade.account} {trade.side.value} {trade.unit}: {decision.action}: {decision.reason}")
        if decision.trade is None:
            skipped.append(f"{trade.unit} in {trade.account}: deferred ({decision.reason})")
        elif decision.trade.symbol in prices:
            kept.append(trade.model_copy(update={"unit": decision.trade.symbol, "units": decision.trade.units,
                                                 "lot_ids": decision.trade.lot_ids,
                                                 "reason": f"{trade.reason}; {decision.reason}"}))
    kept.sort(key=lambda t: t.side != OrderSide.SELL)
    return HouseholdPlan(day=day, trades=kept, skipped=skipped, wash_sale_decisions=notes)


def raise_cash(*, day: date, account: str, need: float, targets: dict[str, float], ledger: TaxLedger,
               cash: dict[str, float], prices: dict[str, float], fee_model: FeeModel, routing: str,
               withdrawal: float) -> HouseholdPlan:
    """Sales in ``account`` that raise ``need`` (a withdrawal of ``withdrawal`` is due).

    ``household``: what the household holds most above its targets (measured after the money has
    left) is sold first, water-filling on relative overweight, limited to what the account holds;
    the rest pro rata to the account's holdings. ``each_account``: the account is rebalanced to the
    targets at its value after the withdrawal (sales and buys).
    """
    import numpy as np

    from src.orders.flows import water_fill

    units = list(targets)
    held = np.array([ledger.units(account, u) * prices[u] for u in units])
    # A hair more than needed: the fee is charged on what is actually sold.
    gross = (need / max(1.0 - fee_model.bps / 10_000.0, 1e-9) + fee_model.fixed * len(units)) * 1.001
    if routing == "each_account":
        after = account_values(ledger, cash, prices)[account] - withdrawal - (gross - need)
        planned = []
        for unit, value in zip(units, held):
            delta = targets[unit] * after - value
            if abs(delta) > 1e-9:
                side = OrderSide.BUY if delta > 0 else OrderSide.SELL
                planned.append(HouseholdTrade(account=account, unit=unit, side=side, units=abs(delta) / prices[unit],
                                              price=prices[unit], reason="withdrawal: this account to target"))
        planned.sort(key=lambda t: t.side != OrderSide.SELL)
        return _checked(day, planned, [], ledger, prices)
    total = sum(account_values(ledger, cash, prices).values()) - withdrawal
    household = np.array([sum(ledger.units(a, u) for a in cash) * prices[u] for u in units])
    weights = np.array([targets[u] for u in units])
    over = np.minimum(np.maximum(household - weights * total, 0.0), held)
    sells = water_fill(over, np.maximum(weights * total, 1e-12), min(gross, held.sum()))
    rest = min(gross, held.sum()) - sells.sum()
    if rest > 1e-9:
        left = held - sells
        sells = sells + rest * left / left.sum()
    planned = [HouseholdTrade(account=account, unit=u, side=OrderSide.SELL, units=v / prices[u], price=prices[u],
                              reason="withdrawal: the household's most overweight first")
               for u, v in zip(units, sells) if v > 1e-9]
    return _checked(day, planned, [], ledger, prices)
