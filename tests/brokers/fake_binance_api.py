"""The exchange behind the loopback Binance of tests/brokers/fake_binance.py: spot markets with Binance's
filters (LOT_SIZE, PRICE_FILTER, NOTIONAL or MIN_NOTIONAL), balances (free and locked), orders, fills and
trades, in the JSON shapes of Binance's spot REST API v3. No I/O; the caller holds the lock.

Simplifications: a MARKET order (and the marketable part of a LIMIT order) fills at the last price set
with ``set_price``; a resting LIMIT order fills at its own price once the last price crosses it; the fee
is ``fee_rate`` of the fill's quote amount, charged in the quote asset on buys and sells alike."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Optional

D0 = Decimal(0)
E8 = Decimal("0.00000001")
MAX_QTY = Decimal(9_000_000)
MAX_PRICE = Decimal(1_000_000)
OPEN = ("NEW", "PARTIALLY_FILLED")


class BinanceError(Exception):
    """An error answer: HTTP ``status`` with Binance's ``{"code": ..., "msg": ...}`` body."""

    def __init__(self, status: int, code: int, msg: str, headers: Optional[dict] = None):
        super().__init__(f"{status} {code} {msg}")
        self.status, self.code, self.msg, self.headers = status, code, msg, headers or {}

    def body(self) -> dict:
        return {"code": self.code, "msg": self.msg}


def mandatory(name: str) -> BinanceError:
    return BinanceError(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def filter_failure(name: str) -> BinanceError:
    return BinanceError(400, -1013, f"Filter failure: {name}")


def insufficient_balance() -> BinanceError:
    return BinanceError(400, -2010, "Account has insufficient balance for requested action.")


def duplicate_order() -> BinanceError:
    return BinanceError(400, -2010, "Duplicate order sent.")


def now_ms() -> int:
    return int(time.time() * 1000)


def fmt(value: Decimal) -> str:
    return f"{value:.8f}"


def dec(value) -> Decimal:
    return Decimal(str(value))


def decimal_param(params: dict, name: str) -> Decimal:
    raw = params.get(name)
    if raw in (None, ""):
        raise mandatory(name)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BinanceError(400, -1100, f"Illegal characters found in parameter '{name}'; legal range is "
                                       "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.") from None
    if not value.is_finite() or value <= 0:
        raise BinanceError(400, -1013, f"Invalid {name}.")
    if value != value.quantize(E8, rounding=ROUND_DOWN):
        raise BinanceError(400, -1111, f"Parameter '{name}' has too much precision.")
    return value


@dataclass
class Market:
    symbol: str                       # unified, e.g. "BTC/USDT"
    base: str
    quote: str
    step: Decimal                     # LOT_SIZE stepSize
    min_qty: Decimal                  # LOT_SIZE minQty
    tick: Decimal                     # PRICE_FILTER tickSize (and minPrice)
    min_notional: Decimal             # NOTIONAL / MIN_NOTIONAL minNotional
    notional_filter: str = "NOTIONAL"

    @property
    def id(self) -> str:
        return self.base + self.quote

    def floor(self, qty: Decimal) -> Decimal:
        return (qty / self.step).to_integral_value(rounding=ROUND_DOWN) * self.step

    def info(self) -> dict:
        notional = {"filterType": "NOTIONAL", "minNotional": fmt(self.min_notional), "applyMinToMarket": True,
                    "maxNotional": fmt(MAX_QTY), "applyMaxToMarket": False, "avgPriceMins": 5}
        if self.notional_filter == "MIN_NOTIONAL":
            notional = {"filterType": "MIN_NOTIONAL", "minNotional": fmt(self.min_notional),
                        "applyToMarket": True, "avgPriceMins": 5}
        return {
            "symbol": self.id, "status": "TRADING", "baseAsset": self.base, "baseAssetPrecision": 8,
            "quoteAsset": self.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"], "icebergAllowed": False, "ocoAllowed": False,
            "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": False, "cancelReplaceAllowed": False,
            "isSpotTradingAllowed": True, "isMarginTradingAllowed": False, "permissions": [],
            "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "NONE",
            "allowedSelfTradePreventionModes": ["NONE"],
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": fmt(self.tick), "maxPrice": fmt(MAX_PRICE),
                 "tickSize": fmt(self.tick)},
                {"filterType": "LOT_SIZE", "minQty": fmt(self.min_qty), "maxQty": fmt(MAX_QTY),
                 "stepSize": fmt(self.step)},
                notional,
            ],
        }


@dataclass
class Order:
    order_id: int
    client_id: str
    market: Market
    side: str                          # BUY / SELL
    type: str                          # MARKET / LIMIT / LIMIT_MAKER
    time_in_force: Optional[str]
    qty: Decimal
    price: Optional[Decimal]           # the limit price
    fill_price: Optional[Decimal]      # where it fills now (None: rests until the price crosses)
    locked: Decimal                    # what it still reserves: quote for a buy, base for a sell
    created: int
    updated: int
    status: str = "NEW"
    executed: Decimal = D0
    quote_qty: Decimal = D0
    fills: list = field(default_factory=list)
    polls_left: int = 0                # partial_fill: GET /order polls before the rest fills
    fraction: Decimal = Decimal("0.5")

    def fields(self) -> dict:
        return {"symbol": self.market.id, "orderId": self.order_id, "orderListId": -1,
                "clientOrderId": self.client_id, "price": fmt(self.price or D0), "origQty": fmt(self.qty),
                "executedQty": fmt(self.executed), "origQuoteOrderQty": fmt(D0),
                "cummulativeQuoteQty": fmt(self.quote_qty), "status": self.status,
                "timeInForce": self.time_in_force or "GTC", "type": self.type, "side": self.side,
                "workingTime": self.created, "selfTradePreventionMode": "NONE"}

    def query_json(self) -> dict:
        return {**self.fields(), "stopPrice": fmt(D0), "icebergQty": fmt(D0), "time": self.created,
                "updateTime": self.updated, "isWorking": self.status in OPEN}

    def new_json(self, resp_type: str) -> dict:
        if resp_type == "ACK":
            return {"symbol": self.market.id, "orderId": self.order_id, "orderListId": -1,
                    "clientOrderId": self.client_id, "transactTime": self.created}
        out = {**self.fields(), "transactTime": self.created}
        if resp_type == "FULL":
            out["fills"] = [{"price": fmt(f["price"]), "qty": fmt(f["qty"]), "commission": fmt(f["commission"]),
                             "commissionAsset": f["commissionAsset"], "tradeId": f["tradeId"]} for f in self.fills]
        return out

    def view(self) -> dict:
        """The test-facing record (floats, unified symbol)."""
        floats = lambda f: {k: float(v) if isinstance(v, Decimal) else v for k, v in f.items()}  # noqa: E731
        return {"orderId": self.order_id, "clientOrderId": self.client_id, "symbol": self.market.symbol,
                "side": self.side, "type": self.type, "price": float(self.price) if self.price else None,
                "origQty": float(self.qty), "executedQty": float(self.executed),
                "cummulativeQuoteQty": float(self.quote_qty), "status": self.status,
                "fills": [floats(f) for f in self.fills]}


class Venue:
    """Markets, balances, orders and trades of one account."""

    def __init__(self, balances: dict, markets: dict, prices: dict, fee_rate, unique_client_ids: bool = False):
        self.markets = {sym: Market(sym, m["base"], m["quote"], dec(m["step"]), dec(m["min_qty"]), dec(m["tick"]),
                                    dec(m["min_notional"]), m.get("notional_filter", "NOTIONAL"))
                        for sym, m in markets.items()}
        self.by_id = {m.id: m for m in self.markets.values()}
        self.prices = {sym: dec(p) for sym, p in prices.items()}
        self.free = {a: dec(v) for a, v in balances.items()}
        for m in self.markets.values():
            self.free.setdefault(m.base, D0)
            self.free.setdefault(m.quote, D0)
        self.locked = {a: D0 for a in self.free}
        self.fee_rate = dec(fee_rate)
        self.unique_client_ids = unique_client_ids
        self.orders: list[Order] = []
        self.trades: list[dict] = []
        self._order_ids = itertools.count(1001)
        self._trade_ids = itertools.count(5001)

    # ---- lookups -------------------------------------------------------------------------------------------
    def market(self, params: dict, required: bool = True) -> Optional[Market]:
        market_id = params.get("symbol")
        if not market_id:
            if required:
                raise mandatory("symbol")
            return None
        if market_id not in self.by_id:
            raise BinanceError(400, -1121, "Invalid symbol.")
        return self.by_id[market_id]

    def markets_of(self, params: dict) -> list[Market]:
        if params.get("symbols"):
            try:
                ids = json.loads(params["symbols"])
            except ValueError:
                raise BinanceError(400, -1100, "Illegal characters found in parameter 'symbols'.") from None
            return [self.market({"symbol": i}) for i in ids]
        one = self.market(params, required=False)
        return [one] if one else list(self.markets.values())

    def find(self, params: dict, *, missing: BinanceError) -> Order:
        market = self.market(params)
        order_id, client_id = params.get("orderId"), params.get("origClientOrderId")
        if not order_id and not client_id:
            raise BinanceError(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were "
                                           "empty/null!")
        for order in reversed(self.orders):     # a reused client id names its latest order
            if order.market is market and (str(order.order_id) == order_id if order_id
                                           else order.client_id == client_id):
                return order
        raise missing

    # ---- public endpoints ----------------------------------------------------------------------------------
    def exchange_info(self, params: dict) -> dict:
        return {"timezone": "UTC", "serverTime": now_ms(), "exchangeFilters": [],
                "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                                "limit": 6000},
                               {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100}],
                "symbols": [m.info() for m in self.markets_of(params)]}

    def ticker(self, market: Market) -> dict:
        last = fmt(self.prices[market.symbol])
        return {"symbol": market.id, "priceChange": fmt(D0), "priceChangePercent": "0.000",
                "weightedAvgPrice": last, "prevClosePrice": last, "lastPrice": last, "lastQty": fmt(D0),
                "bidPrice": last, "bidQty": fmt(D0), "askPrice": last, "askQty": fmt(D0), "openPrice": last,
                "highPrice": last, "lowPrice": last, "volume": fmt(D0), "quoteVolume": fmt(D0),
                "openTime": now_ms() - 86_400_000, "closeTime": now_ms(), "firstId": -1, "lastId": -1, "count": 0}

    def tickers(self, params: dict, shape: str = "24hr"):
        rows = [self.ticker(m) for m in self.markets_of(params)]
        if shape == "price":
            rows = [{"symbol": r["symbol"], "price": r["lastPrice"]} for r in rows]
        elif shape == "bookTicker":
            rows = [{k: r[k] for k in ("symbol", "bidPrice", "bidQty", "askPrice", "askQty")} for r in rows]
        return rows[0] if params.get("symbol") else rows

    # ---- account -------------------------------------------------------------------------------------------
    def account(self) -> dict:
        return {"makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
                "canTrade": True, "canWithdraw": False, "canDeposit": False, "brokered": False,
                "requireSelfTradePrevention": False, "preventSor": False, "updateTime": now_ms(),
                "accountType": "SPOT", "permissions": ["SPOT"], "uid": 1,
                "balances": [{"asset": a, "free": fmt(self.free[a]), "locked": fmt(self.locked[a])}
                             for a in sorted(self.free)]}

    def _move(self, asset: str, amount: Decimal, *, lock: bool) -> None:
        src, dst = (self.free, self.locked) if lock else (self.locked, self.free)
        src[asset] -= amount
        dst[asset] += amount

    # ---- orders --------------------------------------------------------------------------------------------
    def new_order(self, params: dict, *, partial: Optional[tuple[Decimal, int]] = None,
                  force: Optional[BinanceError] = None, test: bool = False) -> Optional[Order]:
        market = self.market(params)
        side, kind = params.get("side"), params.get("type")
        if side not in ("BUY", "SELL"):
            raise mandatory("side") if not side else BinanceError(400, -1117, "Invalid side.")
        if kind not in ("MARKET", "LIMIT", "LIMIT_MAKER"):
            raise mandatory("type") if not kind else BinanceError(400, -1116, "Invalid orderType.")
        client_id = params.get("newClientOrderId") or f"fake-{len(self.orders) + 1}"
        last = self.prices[market.symbol]
        price = tif = None
        if kind == "MARKET" and params.get("quoteOrderQty") and not params.get("quantity"):
            qty = market.floor(decimal_param(params, "quoteOrderQty") / last)
        else:
            qty = decimal_param(params, "quantity")
        if kind != "MARKET":
            price = decimal_param(params, "price")
            tif = params.get("timeInForce") if kind == "LIMIT" else None
            if kind == "LIMIT" and tif not in ("GTC", "IOC", "FOK"):
                raise mandatory("timeInForce") if not tif else BinanceError(400, -1115, "Invalid timeInForce.")
            if price < market.tick or price > MAX_PRICE or (price - market.tick) % market.tick != 0:
                raise filter_failure("PRICE_FILTER")
        if qty < market.min_qty or qty > MAX_QTY or (qty - market.min_qty) % market.step != 0:
            raise filter_failure("LOT_SIZE")
        if qty * (price or last) < market.min_notional:
            raise filter_failure(market.notional_filter)
        crosses = price is None or (price >= last if side == "BUY" else price <= last)
        if kind == "LIMIT_MAKER" and crosses:
            raise BinanceError(400, -2010, "Order would immediately match and take.")
        if force is not None:
            raise force
        if any(o.client_id == client_id and (o.status in OPEN or self.unique_client_ids) for o in self.orders):
            raise duplicate_order()
        reserve_asset = market.quote if side == "BUY" else market.base
        reserve = qty * (price or last) * (1 + self.fee_rate) if side == "BUY" else qty
        if self.free[reserve_asset] < reserve:
            raise insufficient_balance()
        if test:
            return None
        stamp = now_ms()
        order = Order(next(self._order_ids), client_id, market, side, kind, tif, qty, price,
                      last if crosses else None, reserve, stamp, stamp)
        self._move(reserve_asset, reserve, lock=True)
        self.orders.append(order)
        if order.fill_price is None:
            if tif in ("IOC", "FOK"):
                self._close(order, "EXPIRED")
            return order
        if partial is not None:
            order.fraction, order.polls_left = partial
            first = market.floor(qty * order.fraction) or market.step
            if first < qty:
                self._fill(order, first)
                return order
            order.polls_left = 0
        self._fill(order, qty)
        return order

    def _fill(self, order: Order, qty: Decimal) -> None:
        market, price = order.market, order.fill_price
        quote = (qty * price).quantize(E8, rounding=ROUND_DOWN)
        fee = (quote * self.fee_rate).quantize(E8, rounding=ROUND_DOWN)
        if order.side == "BUY":
            self.locked[market.quote] -= quote + fee
            order.locked -= quote + fee
            self.free[market.base] += qty
        else:
            self.locked[market.base] -= qty
            order.locked -= qty
            self.free[market.quote] += quote - fee
        trade_id, stamp = next(self._trade_ids), now_ms()
        order.executed += qty
        order.quote_qty += quote
        order.updated = stamp
        order.fills.append({"price": price, "qty": qty, "commission": fee, "commissionAsset": market.quote,
                            "tradeId": trade_id})
        self.trades.append({"id": trade_id, "orderId": order.order_id, "symbol": market.symbol,
                            "side": order.side, "price": price, "qty": qty, "quoteQty": quote,
                            "commission": fee, "commissionAsset": market.quote, "time": stamp,
                            "isMaker": order.type != "MARKET" and order.price == price})
        if order.executed >= order.qty:
            self._close(order, "FILLED")
        else:
            order.status = "PARTIALLY_FILLED"

    def _close(self, order: Order, status: str) -> None:
        """Ends ``order`` and frees what it still reserves."""
        self._move(order.market.quote if order.side == "BUY" else order.market.base, order.locked, lock=False)
        order.locked, order.status, order.polls_left, order.updated = D0, status, 0, now_ms()

    def poll(self, order: Order) -> None:
        """A GET /order of a partially filled order (partial_fill fault): more of it fills, all on the last poll."""
        if order.status != "PARTIALLY_FILLED" or order.polls_left <= 0:
            return
        order.polls_left -= 1
        rest = order.qty - order.executed
        chunk = rest if order.polls_left == 0 else min(rest, order.market.floor(rest * order.fraction)
                                                       or order.market.step)
        self._fill(order, chunk)

    def cancel(self, params: dict) -> dict:
        order = self.find(params, missing=BinanceError(400, -2011, "Unknown order sent."))
        if order.status not in OPEN:
            raise BinanceError(400, -2011, "Unknown order sent.")
        self._close(order, "CANCELED")
        out = {**order.fields(), "transactTime": order.updated, "origClientOrderId": order.client_id}
        out["clientOrderId"] = params.get("newClientOrderId") or f"cancel-{order.order_id}"
        return out

    def set_price(self, symbol: str, price) -> None:
        """Moves the last price; resting LIMIT orders it crosses fill at their own price."""
        last = self.prices[symbol] = dec(price)
        for order in self.orders:
            if (order.market.symbol == symbol and order.status == "NEW" and order.fill_price is None
                    and (order.price >= last if order.side == "BUY" else order.price <= last)):
                order.fill_price = order.price
                self._fill(order, order.qty)

    def open_orders(self, params: dict) -> list[dict]:
        market = self.market(params, required=False)
        return [o.query_json() for o in self.orders
                if o.status in OPEN and (market is None or o.market is market)]

    def all_orders(self, params: dict) -> list[dict]:
        market = self.market(params)
        rows = [o.query_json() for o in self.orders if o.market is market]
        return rows[-int(params.get("limit") or 500):]

    def my_trades(self, params: dict) -> list[dict]:
        market = self.market(params)
        rows = [t for t in self.trades if t["symbol"] == market.symbol
                and (not params.get("orderId") or str(t["orderId"]) == params["orderId"])
                and t["id"] >= int(params.get("fromId") or 0)
                and int(params.get("startTime") or 0) <= t["time"] <= int(params.get("endTime") or 2 ** 62)]
        return [{"symbol": market.id, "id": t["id"], "orderId": t["orderId"], "orderListId": -1,
                 "price": fmt(t["price"]), "qty": fmt(t["qty"]), "quoteQty": fmt(t["quoteQty"]),
                 "commission": fmt(t["commission"]), "commissionAsset": t["commissionAsset"], "time": t["time"],
                 "isBuyer": t["side"] == "BUY", "isMaker": t["isMaker"], "isBestMatch": True}
                for t in rows][-int(params.get("limit") or 500):]
