"""Partial rebalancing: trade only some units back to target (an event trigger's ``scope``)."""

from __future__ import annotations

from typing import Mapping


def partial_targets(before: Mapping[str, float], targets: Mapping[str, float], scope: list[str]) -> dict[str, float]:
    """Weights that move only the ``scope`` units to their targets.

    The weight a scoped unit frees (a sale) fills the other units that are below their targets,
    in proportion to their gaps, and the rest stays in cash; the weight a scoped unit needs (a
    purchase) comes first from cash beyond the targets' own cash, then from units above their
    targets in proportion to their excess, then from all other units pro rata.

    Parameters
    ----------
    before : mapping
        Current weight per unit (of total value; the rest is cash).
    targets : mapping
        Target weight per unit.
    scope : list of str
        The units to bring back to target.

    Returns
    -------
    dict
        Weight per unit (non-negative, summing to at most 1).
    """
    units = list(dict.fromkeys([*targets, *before]))
    new = {u: float(before.get(u, 0.0)) for u in units}
    for u in scope:
        new[u] = float(targets.get(u, 0.0))
    others = [u for u in units if u not in scope]
    freed = sum(float(before.get(u, 0.0)) - new[u] for u in scope)
    if freed > 0:
        gaps = {u: max(0.0, targets.get(u, 0.0) - new[u]) for u in others}
        total = sum(gaps.values())
        if total > 0:
            share = min(1.0, freed / total)
            for u, g in gaps.items():
                new[u] += g * share
    elif freed < 0:
        need = -freed
        cash = max(0.0, 1.0 - sum(before.values()))
        spare_cash = max(0.0, cash - max(0.0, 1.0 - sum(targets.values())))
        need -= min(need, spare_cash)
        for pool in ({u: max(0.0, new[u] - targets.get(u, 0.0)) for u in others}, {u: new[u] for u in others}):
            total = sum(pool.values())
            if need <= 0 or total <= 0:
                continue
            take = min(need, total)
            for u, amount in pool.items():
                new[u] -= amount * take / total
            need -= take
        if need > 1e-12:  # nothing left to fund it with: buy what the account can pay for
            for u in scope:
                if new[u] > before.get(u, 0.0):
                    new[u] -= min(need, new[u] - before.get(u, 0.0))
    return {u: max(0.0, w) for u, w in new.items()}
