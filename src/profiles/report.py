"""Plain-text presentation of a ``TradeListReport`` (the profile report's presentation layer)."""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

from src.profiles.trade_list import TradeListReport


def _money(x: Decimal) -> str:
    return f"{x:,.2f}"


def _pct(fraction: Decimal) -> str:
    return f"{fraction * 100:.2f}%"


def _points(fraction: Decimal) -> str:
    return "0.00" if fraction == 0 else f"{fraction * 100:+.2f}"


def _shares(shares: Optional[Decimal]) -> str:
    if shares is None:
        return "n/a"
    return f"{shares:,.0f}" if shares == shares.to_integral_value() else f"{shares:,.4f}"


def _table(header: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    """Columns padded to their widest cell; the first ``left`` columns left-aligned, the rest right."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) if i < left else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths))).rstrip()
            for r in [header, *rows]]


def format_report(report: TradeListReport, dry_run: bool = False) -> str:
    """The report as plain text.

    Parameters
    ----------
    report : TradeListReport
        What ``build_trade_list`` returned.
    dry_run : bool, default False
        Also show the estimated tax of the sells (when the report has a tax estimate).

    Returns
    -------
    str
        The asset-class drift table, the targets, the trade list (or "no trades"), skipped
        trades, the trade summary, in a dry run the tax estimate, and the warnings; ends with a
        newline.
    """
    lines = [f"Risk profile: {report.profile.label()}", f"Portfolio value: {_money(report.total_value)}", "",
             "Asset classes"]
    lines += _table(["class", "value", "weight", "target", "target value", "drift", "status"],
                    [[c.asset_class.value, _money(c.value), _pct(c.weight), _pct(c.target), _money(c.target_value),
                      _points(c.drift), c.status] for c in report.classes])
    lines += ["", "Targets"]
    lines += _table(["symbol", "class", "value", "weight", "target", "target value"],
                    [[p.symbol, p.asset_class.value, _money(p.value), _pct(p.weight), _pct(p.target),
                      _money(p.target_value)] for p in report.positions], left=2)
    lines += ["", "Trades (sells first, largest drift first; then buys, most underweight first)"]
    if report.trades:
        lines += _table(["#", "side", "symbol", "amount", "est. shares", "commission"],
                        [[str(t.priority), t.side.value.upper(), t.symbol, _money(t.amount), _shares(t.shares),
                          _money(t.commission)] for t in report.trades], left=3)
    else:
        lines.append("no trades: every position is on its target")
    for s in report.skipped:
        lines.append(f"skipped {s.side.value} {s.symbol} {_money(s.amount)}: {s.reason}")
    m = report.summary
    lines += ["", "Summary",
              f"sells {_money(m.total_sells)}  buys {_money(m.total_buys)}  commissions {_money(m.commissions)}  "
              f"net cash {m.net_cash:+,.2f}  cash {_money(m.cash_before)} -> {_money(m.cash_after)}"]
    if dry_run and report.tax is not None:
        tax = report.tax
        lines += ["", f"Estimated tax of the sells (dry run, sold on {tax.as_of})"]
        if tax.sells:
            lines += _table(["symbol", "term", "proceeds", "basis", "gain/loss", "taxed"],
                            [[s.symbol, s.term, _money(s.proceeds), _money(s.basis), f"{s.gain:+,.2f}",
                              "yes" if s.taxable else "no"] for s in tax.sells], left=2)
        else:
            lines.append("no sells with a cost basis")
        i = tax.impact
        lines += [f"gains {i.short_term_gains + i.long_term_gains:,.2f} (short-term {i.short_term_gains:,.2f}, "
                  f"long-term {i.long_term_gains:,.2f})",
                  f"losses {i.short_term_losses + i.long_term_losses:,.2f} (short-term {i.short_term_losses:,.2f}, "
                  f"long-term {i.long_term_losses:,.2f})",
                  f"net tax {i.estimated_tax:+,.2f} (negative: a saving)"]
        if tax.not_estimated:
            lines.append(f"no cost basis, left out: {', '.join(tax.not_estimated)}")
    lines += [f"warning: {w}" for w in report.warnings]
    return "\n".join(lines) + "\n"
