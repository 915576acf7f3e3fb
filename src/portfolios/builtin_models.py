"""The four built-in model portfolios, as data (validated into ``ModelPortfolio`` by the catalogue).

Real tickers are US-listed funds an investor could buy. Proxies are the shipped units
(``src/data/market/README.md``); how each differs from its fund is in ``proxy_notes``. No gold
price is shipped, so gold is a recorded substitution, never a made-up series.
"""

from __future__ import annotations

NO_GOLD = ("no gold price is shipped with the project (none in its real-data folder), and none is made up")

STOCKS_NOTE = ("SPY total-return index (S&P 500, large caps, dividends reinvested); VTI holds the whole US market, "
               "of which the S&P 500 is about 80% by value")
LONG_NOTE = ("UST10Y: 10-year constant-maturity Treasury total-return index derived from the shipped yields "
             "(duration about 8 years); {fund} holds {what}, so the proxy has roughly half the fund's rate sensitivity")
INTERMEDIATE_NOTE = ("UST5Y: 5-year constant-maturity Treasury total-return index derived from the shipped yields "
                     "(duration about 4.5 years); IEF holds 7-10 year Treasuries (duration about 7.5 years)")
COMMODITIES_NOTE = ("WTI crude oil spot price (FRED DCOILWTICO): crude only, not a broad basket, and a spot price, not a "
                    "futures fund's return (no roll yield, no interest on collateral); DBC holds futures on 14 commodities "
                    "(energy, metals, agriculture)")
CASH_NOTE = ("UST3M: the 3-month Treasury bill rolled daily, derived from the shipped 3-month yields (the account's "
             "own cash earns nothing, so cash held as a target is this bill); BIL holds 1-3 month bills")
BONDS_NOTE = ("UST10Y: 10-year Treasury total-return index (duration about 8 years, no credit); BND holds the US "
              "investment-grade market (Treasuries, mortgage-backed and corporate bonds; duration about 6 years)")
TLT_20Y = "20+ year Treasuries (duration about 17 years)"

BUILTIN_MODELS: list[dict] = [
    {
        "name": "all_weather",
        "title": "All Weather",
        "description": "Ray Dalio's All Weather allocation simplified for individual investors: meant to hold up "
                       "in growth, recession, inflation and deflation alike; most of its risk is in Treasuries.",
        "source": "Tony Robbins, MONEY: Master the Game (2014), the 'All Seasons' portfolio Ray Dalio (Bridgewater "
                  "Associates) outlined: 30% stocks, 40% long-term Treasuries, 15% intermediate Treasuries, "
                  "7.5% gold, 7.5% commodities.",
        "holdings": {"VTI": 0.30, "TLT": 0.40, "IEF": 0.15, "GLD": 0.075, "DBC": 0.075},
        "proxies": {"VTI": "SPY", "TLT": "UST10Y", "IEF": "UST5Y", "DBC": "WTI"},
        "proxy_notes": {"VTI": STOCKS_NOTE, "TLT": LONG_NOTE.format(fund="TLT", what=TLT_20Y),
                        "IEF": INTERMEDIATE_NOTE, "DBC": COMMODITIES_NOTE},
        "substitutions": [{"ticker": "GLD", "reason": NO_GOLD, "moved_to": None}],
    },
    {
        "name": "sixty_forty",
        "title": "60/40",
        "description": "The conventional balanced portfolio: 60% US stocks, 40% US investment-grade bonds.",
        "source": "The classic balanced allocation, e.g. Vanguard Balanced Index Fund (VBINX): 60% US total stock "
                  "market, 40% US investment-grade bonds; the same 60/40 of SPY and UST10Y as the project's "
                  "decision-quality report.",
        "holdings": {"VTI": 0.60, "BND": 0.40},
        "proxies": {"VTI": "SPY", "BND": "UST10Y"},
        "proxy_notes": {"VTI": STOCKS_NOTE, "BND": BONDS_NOTE},
    },
    {
        "name": "permanent",
        "title": "Permanent Portfolio",
        "description": "Harry Browne's Permanent Portfolio: four equal parts for prosperity (stocks), deflation "
                       "(long-term Treasuries), inflation (gold) and recession (cash).",
        "source": "Harry Browne, Fail-Safe Investing (1999): 25% stocks, 25% long-term Treasury bonds, 25% gold, "
                  "25% cash (Treasury bills).",
        "holdings": {"VTI": 0.25, "TLT": 0.25, "GLD": 0.25, "BIL": 0.25},
        "proxies": {"VTI": "SPY", "TLT": "UST10Y", "BIL": "UST3M"},
        "proxy_notes": {"VTI": STOCKS_NOTE,
                        "TLT": LONG_NOTE.format(fund="TLT", what=TLT_20Y + "; Browne named 30-year bonds"),
                        "BIL": CASH_NOTE},
        "substitutions": [{"ticker": "GLD", "reason": NO_GOLD, "moved_to": None}],
    },
    {
        "name": "risk_parity",
        "title": "Risk Parity",
        "description": "Asset-class risk parity: weights set so that stocks, long-term Treasuries, commodities and "
                       "gold each contribute the same share of the portfolio's variance; unlevered. The weights "
                       "are not fixed: the project's risk-parity engine (src/engines/risk_parity.py) solves them "
                       "monthly from the last 252 days of the proxies' returns (Ledoit-Wolf shrunk covariance). The "
                       "equal weights below only name the universe (and are held for a unit with less than a "
                       "year of history).",
        "source": "Equal risk contribution: Maillard, Roncalli & Teiletche, 'The Properties of Equally Weighted "
                  "Risk Contribution Portfolios', Journal of Portfolio Management 36(4), 2010; asset-class risk "
                  "parity after Qian, 'Risk Parity Portfolios', PanAgora (2005).",
        "weighting": "equal_risk",
        "holdings": {"VTI": 0.25, "TLT": 0.25, "DBC": 0.25, "GLD": 0.25},
        "proxies": {"VTI": "SPY", "TLT": "UST10Y", "DBC": "WTI"},
        "proxy_notes": {"VTI": STOCKS_NOTE, "TLT": LONG_NOTE.format(fund="TLT", what=TLT_20Y),
                        "DBC": COMMODITIES_NOTE},
        "substitutions": [{"ticker": "GLD", "reason": NO_GOLD + "; gold is left out of the risk budget, so risk "
                           "is shared equally among the three proxies", "moved_to": None}],
    },
]
