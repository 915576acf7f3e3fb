"""US tax rules for rebalancing: lots, wash sales across a household, harvesting, tax impact."""
