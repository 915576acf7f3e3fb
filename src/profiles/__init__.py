"""Risk profiles (stocks / bonds / cash mixes) and the trade list that brings holdings to one."""

from src.profiles.risk_profiles import (ALIASES, CASH_SYMBOL, PROFILES, Allocation, AssetClass, Holding,
                                        RiskProfile, allocate, normalise_phrase, profile_targets, resolve_profile)
from src.profiles.trade_list import TradeListReport, build_trade_list

__all__ = ["ALIASES", "CASH_SYMBOL", "PROFILES", "Allocation", "AssetClass", "Holding", "RiskProfile",
           "TradeListReport", "allocate", "build_trade_list", "normalise_phrase", "profile_targets",
           "resolve_profile"]
