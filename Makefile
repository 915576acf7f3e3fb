# Two entry points for a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run plan demo quality builder tlh serve test test-fast registry bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .  # the `kit` command
	touch $@

run: $(BIN)/.installed  ## the main job: replay real history in paper mode on the sample portfolio
	$(BIN)/python main.py --replay

demo: $(BIN)/.installed  ## every method beside buy-and-hold on the same history
	$(BIN)/python src/scripts/demo_portfolio_rebalancing.py

quality: $(BIN)/.installed  ## decision-quality report: turnover, cost and tracking error of every policy on real data
	$(BIN)/python src/scripts/decision_quality.py

tlh: $(BIN)/.installed  ## tax-loss-harvesting backtest beside the published figures
	$(BIN)/python src/scripts/tlh_backtest.py

builder: $(BIN)/.installed  ## build a portfolio file interactively
	$(BIN)/python src/utils/portfolio_builder.py

plan: $(BIN)/.installed  ## preview the guide's portfolio rebalancing plan on real data
	$(BIN)/python src/scripts/preview_plan.py

serve: $(BIN)/.installed  ## the HTTP API on 127.0.0.1:8765 (export KIT_API_TOKEN first; docs at /docs)
	$(BIN)/kit serve

test: $(BIN)/.installed  ## run the whole test suite, the tests marked slow included
	$(BIN)/python -m pytest -q --runslow

test-fast: $(BIN)/.installed  ## the fast subset: every test but those marked slow (what plain pytest runs)
	$(BIN)/python -m pytest -q

registry: $(BIN)/.installed  ## rebuild src/data/strategies/registry.json from the shipped prices
	$(BIN)/python src/scripts/build_strategy_registry.py

.venv-bench/.installed: benchmarks/requirements.txt requirements.txt requirements-dev.txt
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install --quiet --disable-pip-version-check -r benchmarks/requirements.txt
	touch $@

bench: .venv-bench/.installed  ## speed against the peers (skfolio, Riskfolio-Lib, bt) and the bt accounting oracle
	.venv-bench/bin/python benchmarks/risk_parity.py
	.venv-bench/bin/python benchmarks/backtest.py
	.venv-bench/bin/python benchmarks/decision.py
	.venv-bench/bin/python benchmarks/cycle_cost.py
	.venv-bench/bin/python -m pytest -q tests/backtest/test_bt_oracle.py

clean:
	rm -rf $(VENV) .venv-bench .pytest_cache .hypothesis
