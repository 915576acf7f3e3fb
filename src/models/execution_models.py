"""Models of execution, account state and the agent's own persistent state."""

from __future__ import annotations

import datetime as _dt
import math
from datetime import date, datetime
from typing import Literal, Optional, Union

from pydantic import Field, field_validator, model_validator

from src.models.base import StrictModel
from src.models.risk_models import RiskExclusion
from src.models.trading_models import OrderSide, OrderStatus
from src.tax.models import TaxSettings


class ExecutionReport(StrictModel):
    """What a broker says happened to one order."""

    client_order_id: str = Field(description="The order's deterministic id.")
    unit: str = Field(description="Unit traded.")
    side: OrderSide = Field(description="buy or sell.")
    status: OrderStatus = Field(description="filled, partially_filled, rejected or failed.")
    requested_quantity: float = Field(ge=0.0, description="Units asked for.")
    filled_quantity: float = Field(0.0, ge=0.0, description="Units filled.")
    average_price: Optional[float] = Field(None, gt=0.0, description="Mean fill price.")
    fee: float = Field(0.0, ge=0.0, description="Fee charged.")
    reason: Optional[str] = Field(None, description="Why it was rejected or failed.")
    timestamp: datetime = Field(description="When the broker handled it (broker clock).")


class AccountSnapshot(StrictModel):
    """Cash and positions as the broker reports them."""

    cash: float = Field(ge=0.0, description="Free cash.")
    positions: dict[str, float] = Field(default_factory=dict, description="Units held per unit.")


class CashFlow(StrictModel):
    """A deposit (+) or withdrawal (-) of cash."""

    timestamp: datetime = Field(description="When it happened.")
    amount: float = Field(description="Positive for a deposit, negative for a withdrawal.")
    flow_id: Optional[str] = Field(
        None, description="Deterministic id: a flow whose id the account already has is not applied again "
        "(a restart re-running the cycle of a deposit). None in files written before ids existed.")


class PaperAccountState(StrictModel):
    """Everything the paper broker persists, so a restart continues where it stopped."""

    cash: float = Field(ge=0.0, description="Free cash.")
    positions: dict[str, float] = Field(default_factory=dict, description="Units held.")
    reports: dict[str, ExecutionReport] = Field(
        default_factory=dict, description="Every handled order by client order id (idempotency); kept in the "
        "append-only paper_<name>.reports.jsonl, not in the account snapshot."
    )
    flows: list[CashFlow] = Field(default_factory=list, description="Deposits and withdrawals.")
    reports_count: int = Field(0, ge=0, description="How many reports the snapshot accounts for.")
    last_report: Optional[ExecutionReport] = Field(
        None, description="The latest report, written atomically with the fill it records (so a crash before "
        "it reaches the archive loses nothing).")


class ValuePoint(StrictModel):
    """Portfolio value at one cycle, with the external cash flow of that cycle."""

    timestamp: datetime = Field(description="Cycle time.")
    value: float = Field(ge=0.0, description="Cash plus holdings at market.")
    cash: float = Field(ge=0.0, description="Cash.")
    flow: float = Field(0.0, description="Deposit (+) / withdrawal (-) since the previous point.")
    weights: dict[str, float] = Field(default_factory=dict, description="Weight per unit.")


class AgentState(StrictModel):
    """The agent's own persistent state (one file per portfolio)."""

    portfolio_name: str = Field(description="Whose state this is.")
    last_rebalance_at: Optional[datetime] = Field(None, description="Last cycle that filled an order.")
    last_check_at: Optional[datetime] = Field(None, description="Last completed cycle.")
    last_trigger_at: Optional[datetime] = Field(None, description="Last cycle whose trigger fired.")
    history: list[ValuePoint] = Field(
        default_factory=list, description="Value and weights per cycle (kept in its own append-only file, "
        "state_<name>.history.jsonl; the state file holds only history_length).")
    history_length: int = Field(
        0, ge=0, description="How many points of the history file this state accounts for (later lines are "
        "from a cycle that did not finish and are dropped on load).")
    memory: dict[str, float] = Field(default_factory=dict, description="Triggers' and engines' memory.")
    risk_exclusions: dict[str, RiskExclusion] = Field(
        default_factory=dict, description="Units the risk stage holds out (hysteresis)."
    )
    journal_sequence: Optional[int] = Field(
        None, ge=0, description="How many of the portfolio's journal events (rebalance_*.json) this state accounts "
        "for; later events are the interrupted last cycle's, recovered at start-up. None in state files written "
        "before sequences existed.")
    flows_accounted: Optional[int] = Field(
        None, ge=0, description="How many of the account's recorded cash flows the value history includes (the "
        "next point's flow is the sum of the rest). None in state files written before it existed.")


class ScheduledCashFlow(StrictModel):
    """A deposit or withdrawal a replay applies on a given day."""

    date: _dt.date = Field(description="Day of the flow (the next trading day if the market is closed).")
    amount: float = Field(description="Positive deposit, negative withdrawal (in cash units, finite, non-zero).")

    @field_validator("amount")
    @classmethod
    def _finite_non_zero(cls, amount: float) -> float:
        if not math.isfinite(amount) or amount == 0 or abs(amount) > 1e12:
            raise ValueError(f"amount={amount} must be a finite non-zero number of at most 1e12")
        return amount


class ExchangeSettings(StrictModel):
    """The exchange a crypto portfolio trades on, through ccxt. Keys are never written here: only
    the names of the environment variables that hold them."""

    id: str = Field(description="ccxt exchange id, e.g. 'binance' (one of ccxt.exchanges).", max_length=40,
                    pattern=r"^[a-z0-9_]+$")
    quote: str = Field("USDT", max_length=12, pattern=r"^[A-Z0-9]+$",
                       description="Quote currency: the portfolio's cash; a unit 'BTC' trades as 'BTC/<quote>'.")
    api_key_env: str = Field("EXCHANGE_API_KEY", max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                             description="Name of the environment variable holding the API key.")
    secret_env: str = Field("EXCHANGE_SECRET", max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                            description="Name of the environment variable holding the API secret.")
    password_env: Optional[str] = Field(None, max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                                        description="Name of the variable holding a passphrase (exchanges that "
                                                    "need one, e.g. OKX); None if not needed.")
    sandbox: bool = Field(False, description="Call ccxt's set_sandbox_mode(True): the exchange's testnet.")
    api_urls: dict[str, str] = Field(
        default_factory=dict, description="Overrides of entries of ccxt's urls['api'] (a testnet, or a loopback "
        "server in tests); every key must exist in the exchange's urls['api'].")
    options: dict[str, Union[str, bool, int, float, list[str], dict[str, Union[str, bool, list[str]]]]] = Field(
        default_factory=dict, description="ccxt options merged into the exchange's (e.g. spot-only market "
        "loading for binance: {'fetchMarkets': ['spot'], 'fetchCurrencies': false, 'fetchMargins': false}).")
    fill_timeout_seconds: float = Field(
        30.0, gt=0.0, le=3600.0, description="How long an order is followed until filled; then its remainder is "
        "cancelled and the event records what filled.")
    poll_seconds: float = Field(1.0, gt=0.0, le=60.0, description="Seconds between looks at an open order.")
    retries: int = Field(4, ge=0, le=10, description="Retries of idempotent calls after a network error or rate "
                                                     "limit (exponential backoff).")
    timeout_ms: int = Field(10_000, ge=100, le=120_000, description="ccxt's HTTP timeout per request.")
    rate_limit_ms: Optional[int] = Field(None, ge=1, le=60_000, description="ccxt's minimum milliseconds between "
                                         "requests (enableRateLimit is always on); None = the exchange's own.")


class AlertSettings(StrictModel):
    """Drift alert levels: the largest absolute drift |weight - target| of any unit (excluded
    assets left out, weights on the rest of the portfolio) after a cycle, against two thresholds."""

    enabled: bool = Field(True, description="Measure drift after every cycle and journal level changes.")
    drift_warning: float = Field(0.05, gt=0.0, le=1.0, description="Absolute drift of a unit at or above which "
                                 "the level is 'warning' (in (0, 1], below drift_critical).")
    drift_critical: float = Field(0.10, gt=0.0, le=1.0, description="Absolute drift of a unit at or above which "
                                  "the level is 'critical' (in (0, 1]).")
    clear_ratio: float = Field(0.8, ge=0.5, le=1.0, description="Hysteresis: a level reached stays until the "
                               "drift falls below clear_ratio x its threshold (0.8: a warning at 5% clears under "
                               "4%), so a drift hovering at a threshold does not alert and clear on alternate days; "
                               "1.0 turns it off.")

    @model_validator(mode="after")
    def _warning_below_critical(self) -> "AlertSettings":
        if self.drift_warning >= self.drift_critical:
            raise ValueError(f"drift_warning={self.drift_warning} must be below drift_critical={self.drift_critical}")
        return self


class RuntimeSettings(StrictModel):
    """How the agent runs (as opposed to what the portfolio is)."""

    mode: Literal["paper", "live"] = Field(
        "paper", description="'paper' (simulated fills on real prices) or 'live' (orders to runtime.exchange "
        "through ccxt; also needs --live on the command line, otherwise a dry run).")
    exchange: Optional[ExchangeSettings] = Field(
        None, description="The exchange a crypto portfolio trades on; in paper mode its shipped market rules "
        "(amount steps, minimums) apply to the fills.")
    initial_cash: float = Field(100_000.0, gt=0.0, le=1e12,
                                description="Paper account's starting cash (at most 1e12: beyond, sums of "
                                "positions lose the cent).")
    slippage_bps: float = Field(5.0, ge=0.0, le=500.0, description="Paper fills are this much worse than the market price.")
    interval_minutes: float = Field(60.0, gt=0.0, description="Main loop: minutes between cycles.")
    replay_start: date = Field(date(2015, 1, 2), ge=date(1900, 1, 1), le=date(2100, 12, 31),
                               description="First trading day of a replay (1900-2100; earlier than the data "
                               "means from the data's first day).")
    replay_end: Optional[date] = Field(None, description="Last day of a replay (None = end of the data).")
    tax_loss_harvest: bool = Field(False, description="Run tax-loss harvesting in every cycle.")
    account_type: Literal["taxable", "traditional_ira", "roth_ira", "401k"] = Field(
        "taxable", description="Tax treatment of the paper account."
    )
    tax: Optional[TaxSettings] = Field(
        None, description="TaxSettings (rates, lot method, substitutes, identical symbols, budget); setting it "
        "turns on lot tracking and wash-sale checks even without harvesting."
    )
    @model_validator(mode="after")
    def _live_needs_exchange(self) -> "RuntimeSettings":
        if self.mode == "live" and self.exchange is None:
            raise ValueError("mode='live' needs an exchange block (runtime.exchange)")
        return self

    cash_flow_trades: Literal["flow_only", "full_rebalance"] = Field(
        "flow_only", description="What a deposit or withdrawal trades: 'flow_only' places (or raises) just the "
        "money, most underweight (overweight) units first, and leaves the rest of any drift to the regular "
        "trigger; 'full_rebalance' trades every unit to target at once.")
    alerts: AlertSettings = Field(
        default_factory=AlertSettings, description="Drift alert levels (warning, critical): a rise, or a fall back "
        "to none, after a cycle is journaled as an 'alert' event (src/agents/alerts.py).")
    cash_flows: list[ScheduledCashFlow] = Field(
        default_factory=list, max_length=100_000,
        description="Deposits and withdrawals of a replay, each applied before that day's check (a cycle with "
        "cause 'cash_flow', so money in is invested and money out is raised at once).")


class MarketTick(StrictModel):
    """New market data arrived."""

    kind: Literal["market_tick"] = "market_tick"


class FillReceived(StrictModel):
    """A broker reported a fill (e.g. of an order placed elsewhere)."""

    kind: Literal["fill"] = "fill"
    report: ExecutionReport = Field(description="The fill.")


class CashFlowEvent(StrictModel):
    """A deposit or withdrawal to apply to the account before the cycle."""

    kind: Literal["cash_flow"] = "cash_flow"
    amount: float = Field(description="Positive deposit, negative withdrawal.")
    flow_id: Optional[str] = Field(
        None, max_length=200, description="Your reference for the transfer: the account applies a flow id once, "
        "so handling the same event again (a retry, a restart) does not move the money twice. Default: derived "
        "from the portfolio, the clock's time and the amount.")


class RegistryUpdated(StrictModel):
    """A strategy's registry performance was updated."""

    kind: Literal["registry_update"] = "registry_update"
    strategy_id: str = Field(description="Which strategy.")


class ScheduleTick(StrictModel):
    """The scheduler's periodic tick."""

    kind: Literal["schedule_tick"] = "schedule_tick"


AgentEvent = Union[MarketTick, FillReceived, CashFlowEvent, RegistryUpdated, ScheduleTick]
