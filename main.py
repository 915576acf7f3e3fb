"""The trading-bot framework's main loop.

Switch agents on or off in ``ACTIVE_AGENTS``. Usage::

    python main.py --replay          # the main job: replay real history in paper mode
    python main.py --once            # one cycle of every active agent, then exit
    python main.py --preview         # the plan a cycle would make now; nothing sent or written
    python main.py                   # a cycle every runtime.interval_minutes until Ctrl-C
    python main.py --config src/data/portfolios/my_portfolio.json --replay
    python main.py --repair          # rebuild state and paper account from the events (see README)
    python main.py --once --live --config my_crypto.json   # trade on the exchange (runtime.mode "live")
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path

from termcolor import colored

from src.errors import ConfigError, RebalancerError, one_line_error
from src.runtime.console import print_summary, rebalance_printer
from src.runtime.replay import run_replay
from src.utils.config_files import SAMPLE_PORTFOLIO, load_portfolio_file
from src.utils.paths import PORTFOLIO_DIR

# Agents this framework has, and whether each runs. Only agents that exist are listed.
ACTIVE_AGENTS: dict[str, bool] = {
    "portfolio": True,  # PortfolioRebalancingAgent
}

log = logging.getLogger("main")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description="Run the trading-bot framework's active agents.")
    parser.add_argument("--config", type=Path, default=SAMPLE_PORTFOLIO, help="portfolio file (builder output)")
    parser.add_argument("--data-dir", type=Path, default=PORTFOLIO_DIR, help="events, state, paper account, charts")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="run one cycle and exit")
    mode.add_argument("--preview", action="store_true",
                      help="print the plan a cycle would make now (as `kit rebalance preview`); nothing is sent or written")
    mode.add_argument("--replay", action="store_true", help="replay real history (runtime.replay_start .. replay_end)")
    mode.add_argument("--household", type=Path, metavar="FILE",
                      help="backtest a household file (several accounts, one set of targets) on real data in paper "
                      "mode, household routing beside each account rebalanced on its own")
    mode.add_argument("--profile", metavar="NAME",
                      help="the risk-profile trade list (balanced, growth, conservative, income, or e.g. 'moderate') "
                      "for the holdings in --holdings FILE; add --dry-run for the estimated tax of the sells")
    mode.add_argument("--repair", action="store_true",
                      help="rebuild the state, value history, paper account and tax book of a replay from its "
                      "events (checked against a re-run), when start-up says they are lost or older than the events")
    parser.add_argument("--live", action="store_true",
                        help="trade on the exchange of runtime.exchange (needs runtime.mode \"live\" in the file); "
                        "without it a live-mode file only plans and prints what it would send")
    parser.add_argument("--quiet", action="store_true", help="no dashboard at each rebalance during a replay")
    parser.add_argument("--holdings", type=Path, help="holdings file of --profile (see src/data/portfolios/"
                        "seed003_holdings.json)")
    parser.add_argument("--dry-run", action="store_true", help="with --profile: add the estimated tax of the sells")
    parser.add_argument("--log-level", default="WARNING", type=str.upper,
                        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
                        help="logging level (INFO shows every cycle)")
    return parser.parse_args(argv)


def run_loop(args: argparse.Namespace, stop: threading.Event) -> int:
    """Cycle every ``interval_minutes`` until ``stop`` is set (or once)."""
    from src.agents.portfolio_rebalancing_agent import PortfolioRebalancingAgent
    from src.models.execution_models import ScheduleTick
    from src.runtime.live import check_live_flags, dry_run_agent, live_agent, print_plan

    loaded = load_portfolio_file(args.config)
    check_live_flags(loaded, args.live, args.config)
    if loaded.runtime.mode == "live" and not args.live:
        with dry_run_agent(loaded, args.data_dir) as agent:
            print_plan(agent.preview(), loaded.runtime.exchange.quote)
        return 0
    if loaded.runtime.mode == "live":
        agent = live_agent(loaded, args.data_dir, dry_run=False)
    else:
        agent = PortfolioRebalancingAgent(loaded.portfolio, settings=loaded.runtime, data_dir=args.data_dir)
    while not stop.is_set():
        event = agent.handle(ScheduleTick())
        if event is not None:
            agent.display_portfolio_dashboard()
        else:
            print(f"{agent.clock.now():%Y-%m-%d %H:%M} {agent.config.name}: nothing to do")
        if args.once:
            break
        stop.wait(loaded.runtime.interval_minutes * 60.0)
    return 0


def run_preview(args: argparse.Namespace) -> int:
    """``--preview``: the plan, printed as ``kit rebalance preview`` prints it (the same function
    computes it for the CLI, the HTTP API and the Python API)."""
    from src.cli.rebalance_cmds import plan_lines
    from src.service import rebalance as svc

    with svc.open_agent(args.config, args.data_dir, live=args.live) as agent:
        plan = svc.preview(agent)
    print("\n".join(plan_lines(plan)))
    return 0 if plan.orders else 1  # as kit: 1 = nothing to do


def run_repair(args: argparse.Namespace) -> int:
    """``--repair``: rebuild the derived files from the journal and say what was done."""
    from src.runtime.repair import repair

    loaded = load_portfolio_file(args.config)
    report = repair(loaded.portfolio, loaded.runtime, data_dir=args.data_dir)
    print(colored(f"rebuilt {', '.join(report.files_written)} in {args.data_dir} from {report.events_checked} "
                  f"event(s) through {report.rebuilt_through}, each equal to a re-run of the replay", "green"))
    if report.files_removed:
        print(f"removed {', '.join(report.files_removed)} (not derived from these events)")
    if report.pending_completed:
        print(f"completed {report.pending_completed} event(s) an interrupted run left pending, at their own day")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (2 for bad input, 130 after Ctrl-C)."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not ACTIVE_AGENTS.get("portfolio"):
        print("no active agent: set ACTIVE_AGENTS['portfolio'] = True in main.py")
        return 0
    stop = threading.Event()
    try:
        if (args.holdings is not None or args.dry_run) and not args.profile:
            flag = "--holdings" if args.holdings is not None else "--dry-run"
            raise ConfigError(f"{flag} goes with --profile NAME (without it {flag} would be ignored)")
        if args.replay:
            loaded = load_portfolio_file(args.config)
            if args.live:
                print(colored("error: --live: a replay trades on paper only (drop --live)", "red"), file=sys.stderr)
                return 2
            on_rebalance = None if args.quiet else rebalance_printer
            agent, summary = run_replay(loaded.portfolio, loaded.runtime, data_dir=args.data_dir,
                                        on_rebalance=on_rebalance)
            png = agent.display_portfolio_dashboard()
            print_summary(summary, png)
            return 0
        if args.preview:
            return run_preview(args)
        if args.repair:
            return run_repair(args)
        if args.profile:
            from src.scripts.profile_report import main as profile_main

            if args.holdings is None:
                raise ConfigError("--profile needs --holdings FILE (e.g. src/data/portfolios/seed003_holdings.json)")
            return profile_main(["--profile", args.profile, "--holdings", str(args.holdings),
                                 *(["--dry-run"] if args.dry_run else [])])
        if args.household:
            from src.runtime.household import run_household

            return run_household(args.household, args.data_dir)
        return run_loop(args, stop)
    except RebalancerError as exc:
        print(colored(f"error: {one_line_error(exc)}", "red"), file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`python main.py ... | head`): point stdout at /dev/null so the final
        # flush does not fail again, and end as a process killed by SIGPIPE (as kit does).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # an unwritable or wrong --data-dir, a full disk: one line, not a traceback
        print(colored(f"error: {one_line_error(exc)}", "red"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        stop.set()
        print(colored("\nstopped by Ctrl-C; state and events are saved", "yellow"))
        return 130


if __name__ == "__main__":
    sys.exit(main())
