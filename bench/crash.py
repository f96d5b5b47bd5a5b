"""Crash run, full size: reports and decisions through one API process and two workers on
PostgreSQL while the API and the workers are killed with SIGKILL at random moments and started
again (the harness is ``tests/crash.py``; the suite runs a small size of it).

Usage: PYTHONPATH=. .venv/bin/python bench/crash.py [--reports 10000] [--decisions 1000]
       [--kills 20] [--seed 1] [--server-url postgresql://…]

Prints what the clients saw (accepted, retried, kills) and what the database holds afterwards
(lost reports, doubled decisions and actions, the audit chain); exits 1 if anything was lost or
done twice.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tanggap import logs
from tanggap.config import Settings
from tanggap.db.migrate import upgrade
from tanggap.runtime import build_runtime
from tests.conftest import TEST_SECRET
from tests.crash import CrashPlan, Outcome, run
from tests.factories import make_tokens


def report(plan: CrashPlan, outcome: Outcome) -> bool:
    """Print the figures; return whether nothing was lost or doubled."""
    restarts = sorted(outcome.restart_seconds)
    print(f"plan: {plan.reports:,} reports, {plan.decisions:,} decisions, {plan.kills} kills")
    print(
        f"run: {outcome.seconds:,.0f} s ({outcome.load_seconds:,.0f} s of load), "
        f"{outcome.api_kills} API kills and {outcome.worker_kills} worker kills, "
        f"restart median {restarts[len(restarts) // 2] if restarts else 0:.1f} s, "
        f"{outcome.retries:,} client retries"
    )
    print(
        f"reports: {len(outcome.accepted):,} accepted, {outcome.reports_stored:,} stored, "
        f"{outcome.lost} lost, {outcome.doubled_reports} posts reported twice"
    )
    print(
        f"decisions: {len(outcome.decided):,} answered, {outcome.doubled_decisions} cases "
        f"decided twice; actions: {outcome.actions:,} queued, {outcome.actions_delivered:,} "
        f"delivered, {outcome.applied:,} applied, {outcome.applied_twice} applied twice, "
        f"{outcome.unapplied} never applied"
    )
    print(
        f"audit: {outcome.chain_checked:,} events sealed, intact={outcome.chain_intact}, "
        f"{outcome.pending_events} pending"
    )
    return (
        outcome.lost == 0
        and outcome.doubled_reports == 0
        and outcome.doubled_decisions == 0
        and outcome.applied_twice == 0
        and outcome.unapplied == 0
        and outcome.chain_intact
        and outcome.pending_events == 0
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=1_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server-url", help="a PostgreSQL server to use instead of pgserver")
    args = parser.parse_args()
    logs.configure("WARNING")
    plan = CrashPlan(
        reports=args.reports,
        decisions=args.decisions,
        kills=args.kills,
        seed=args.seed,
    )
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        url = args.server_url
        if not url:
            import pgserver

            server = pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
            url = server.get_uri()
        upgrade(url)
        runtime = build_runtime(Settings(env="test", database_url=url, secret_key=TEST_SECRET))
        try:
            outcome = run(runtime, url, make_tokens(runtime), plan)
        finally:
            runtime.close()
            if server is not None:
                server.cleanup()
    sys.exit(0 if report(plan, outcome) else 1)


if __name__ == "__main__":
    main()
