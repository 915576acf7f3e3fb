"""Households: several accounts held to one portfolio (routing, asset location, paper backtest)."""
