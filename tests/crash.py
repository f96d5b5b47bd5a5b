"""The crash run: reports and decisions through one API process and two workers on PostgreSQL,
while the API and the workers are killed with SIGKILL at random moments and started again. The
clients retry what got no answer with the same ``Idempotency-Key``. Afterwards nothing accepted
may be missing, nothing may have happened twice, and the audit chain must verify.

Used by ``tests/integration/test_crash.py`` (a small size) and ``bench/crash.py`` (the full size).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import text

from tanggap.audit import service as audit
from tanggap.runtime import Runtime
from tests.conftest import TEST_SECRET
from tests.factories import Tokens, bearer, decision_body, report_body
from tests.workers import TANGGAP, Worker, start_worker, wait_until

CHANNEL = "crashtest"
REPORTERS = 4
# A request that found the API gone is sent again after this pause (the API restarts in seconds).
RETRY_PAUSE_SECONDS = 0.1
# Actions claimed by a killed process come back after their lease: a short one for the run.
ACTION_LEASE_SECONDS = "5"


@dataclass(frozen=True)
class CrashPlan:
    """How big the run is and how often it kills."""

    reports: int
    decisions: int
    kills: int
    seed: int = 1
    # The kills fall at random points of the work (reports accepted plus cases decided) within
    # this share of it, so that every kill lands while the clients are sending, however fast
    # the machine.
    kill_within: tuple[float, float] = (0.05, 0.9)

    def kill_points(self) -> list[int]:
        """Return, in order, after how many units of work each kill falls."""
        work = self.reports + self.decisions
        low, high = (round(work * share) for share in self.kill_within)
        return sorted(random.Random(self.seed).sample(range(low, high), self.kills))


@dataclass
class Outcome:
    """What the run saw and what the database holds afterwards."""

    accepted: set[str] = field(default_factory=set)  # report ids answered 202
    decided: set[str] = field(default_factory=set)  # case ids whose decision was answered
    retries: int = 0
    api_kills: int = 0
    worker_kills: int = 0
    seconds: float = 0.0
    load_seconds: float = 0.0  # until the clients were done
    restart_seconds: list[float] = field(default_factory=list)
    lost: int = 0  # accepted reports the database does not hold
    reports_stored: int = 0
    doubled_reports: int = 0  # idempotency keys that made more than one report
    doubled_decisions: int = 0  # cases with more than one decision
    actions: int = 0
    actions_delivered: int = 0
    applied_twice: int = 0  # idempotency keys the platform applied more than once
    applied: int = 0
    unapplied: int = 0  # actions the platform never applied
    chain_checked: int = 0
    chain_intact: bool = False
    pending_events: int = 0
    progress: threading.Condition = field(
        default_factory=threading.Condition, repr=False, compare=False
    )

    def done(self) -> int:
        """Units of work answered so far: reports accepted plus cases decided."""
        return len(self.accepted) + len(self.decided)

    def record(self, into: set[str], identifier: str) -> None:
        """Note an answered report or decision and wake whoever waits for progress."""
        with self.progress:
            into.add(identifier)
            self.progress.notify_all()

    def wait_for(self, units: int, stop: threading.Event) -> bool:
        """Block until ``units`` of work are done; False if the run stopped first."""
        with self.progress:
            while self.done() < units:
                if stop.is_set():
                    return False
                self.progress.wait(timeout=1)
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed_posts(runtime: Runtime, count: int) -> None:
    """Store the posts to report (message ids 1…count) in one statement."""
    with runtime.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO channels (handle, created_at, updated_at) VALUES (:c, now(), now())"),
            {"c": CHANNEL},
        )
        conn.execute(
            text(
                "INSERT INTO posts (channel_id, message_id, text, posted_at, author_ref,"
                " language, ingested_at, updated_at) SELECT c.id, g, 'Klaim hadiah sekarang',"
                " now(), 'crash', 'id', now(), now() FROM channels c, generate_series(1, :n) g"
                " WHERE c.handle = :c"
            ),
            {"n": count, "c": CHANNEL},
        )


class Api:
    """``tanggap serve`` (HTTP only: the workers run the jobs) that can be killed and restarted."""

    def __init__(self, database_url: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.environment = {
            **os.environ,
            "TANGGAP_DATABASE_URL": database_url,
            "TANGGAP_SECRET_KEY": TEST_SECRET,
            "TANGGAP_ENV": "test",
            "TANGGAP_JOBS": "worker",
            "TANGGAP_LOG_LEVEL": "WARNING",
            # The API delivers a decision's actions right after its commit: killed meanwhile,
            # they come back after this lease (the same short one as the workers').
            "TANGGAP_ACTION_LEASE_SECONDS": ACTION_LEASE_SECONDS,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [TANGGAP, "serve", "--port", str(self.port)],
            env=self.environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_until(self._ready, timeout=60), "the API did not come up"

    def _ready(self) -> bool:
        assert self.process is not None and self.process.poll() is None, "the API exited"
        try:
            return httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)


def retried(
    outcome: Outcome, send: Callable[[], httpx.Response], deadline: float
) -> httpx.Response:
    """Send until the API answers something other than a lost connection or a 5xx."""
    while True:
        try:
            answer = send()
            if answer.status_code < 500:
                return answer
        except httpx.HTTPError:
            pass
        outcome.retries += 1
        assert time.monotonic() < deadline, "the run did not finish in time"
        time.sleep(RETRY_PAUSE_SECONDS)


def report_all(api: Api, token: str, numbers: range, outcome: Outcome, deadline: float) -> None:
    """Report each post once, under its own Idempotency-Key, whatever happens to the API."""
    with httpx.Client(timeout=30) as client:
        for number in numbers:
            answer = retried(
                outcome,
                lambda n=number: client.post(  # type: ignore[misc]
                    f"{api.base}/v1/reports",
                    json=report_body(target=f"https://t.me/{CHANNEL}/{n}"),
                    headers=bearer(token, **{"Idempotency-Key": f"crash-report-{n}"}),
                ),
                deadline,
            )
            assert answer.status_code == 202, answer.text
            outcome.record(outcome.accepted, answer.json()["report_id"])


def decide_some(api: Api, token: str, wanted: int, outcome: Outcome, deadline: float) -> None:
    """Take the next case and remove its post, until ``wanted`` cases are decided."""
    with httpx.Client(timeout=30) as client:
        while len(outcome.decided) < wanted and time.monotonic() < deadline:
            taken = retried(
                outcome,
                lambda: client.post(f"{api.base}/v1/cases/next", headers=bearer(token)),
                deadline,
            )
            if taken.status_code == 204:
                time.sleep(RETRY_PAUSE_SECONDS)  # nothing triaged yet: the workers are on it
                continue
            assert taken.status_code == 200, taken.text
            case_id = taken.json()["case_id"]
            decided = retried(
                outcome,
                lambda case=case_id: client.post(  # type: ignore[misc]
                    f"{api.base}/v1/cases/{case}/decision",
                    json=decision_body(),
                    headers=bearer(token, **{"Idempotency-Key": f"crash-decision-{case}"}),
                ),
                deadline,
            )
            assert decided.status_code in (200, 201), decided.text
            outcome.record(outcome.decided, case_id)


def chaos(
    plan: CrashPlan,
    api: Api,
    workers: list[Worker],
    restart_worker: Callable[[], Worker],
    outcome: Outcome,
    stop: threading.Event,
) -> None:
    """Kill the API or a worker (alternately) at the plan's points, then start it again."""
    rng = random.Random(plan.seed)
    for kill, point in enumerate(plan.kill_points()):
        if not outcome.wait_for(point, stop):
            return
        restarting = time.monotonic()
        if kill % 2 == 0:
            api.kill()
            outcome.api_kills += 1
            api.start()
        else:
            victim = rng.randrange(len(workers))
            workers[victim].process.send_signal(signal.SIGKILL)
            workers[victim].process.wait(timeout=30)
            outcome.worker_kills += 1
            workers[victim] = restart_worker()
        outcome.restart_seconds.append(time.monotonic() - restarting)


WAITING = {
    "actions not delivered": "SELECT COUNT(*) FROM actions WHERE state <> 'delivered'",
    "reports not triaged": "SELECT COUNT(*) FROM reports WHERE status = 'received'",
    "events not sealed": "SELECT COUNT(*) FROM audit_events WHERE seq IS NULL",
}


def waiting(runtime: Runtime) -> dict[str, int]:
    """Return what the workers still have to do."""
    return {what: count(runtime, sql) for what, sql in WAITING.items()}


def settle(runtime: Runtime, timeout: float) -> bool:
    """Wait until every action is delivered, every case triaged and every event sealed."""
    return wait_until(lambda: not any(waiting(runtime).values()), timeout=timeout)


def count(runtime: Runtime, sql: str) -> int:
    with runtime.engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one() or 0)


def run(runtime: Runtime, database_url: str, tokens: Tokens, plan: CrashPlan) -> Outcome:
    """Run the plan against a migrated, empty PostgreSQL; return what it saw and found."""
    outcome = Outcome()
    seed_posts(runtime, plan.reports)
    started = time.monotonic()
    deadline = started + 60 + plan.reports * 0.5

    def new_worker() -> Worker:
        return start_worker(
            database_url, action_interval_seconds="1", triage_interval_seconds="0.5"
        )

    api = Api(database_url)
    api.start()
    workers = [new_worker(), new_worker()]
    stop = threading.Event()
    try:
        share = -(-plan.reports // REPORTERS)
        clients = [
            threading.Thread(
                target=report_all,
                args=(
                    api,
                    tokens.flagger,
                    range(1 + n * share, min(plan.reports, (n + 1) * share) + 1),
                    outcome,
                    deadline,
                ),
            )
            for n in range(REPORTERS)
        ] + [
            threading.Thread(
                target=decide_some, args=(api, token, plan.decisions, outcome, deadline)
            )
            for token in (tokens.reviewer, tokens.reviewer2)
        ]
        killer = threading.Thread(
            target=chaos, args=(plan, api, workers, new_worker, outcome, stop)
        )
        for thread in [*clients, killer]:
            thread.start()
        for thread in clients:
            thread.join()
        outcome.load_seconds = time.monotonic() - started
        stop.set()
        with outcome.progress:
            outcome.progress.notify_all()
        killer.join()
        assert settle(runtime, timeout=120), f"the workers did not catch up: {waiting(runtime)}"
    finally:
        stop.set()
        api.kill()
        for worker in workers:
            worker.kill()
    outcome.seconds = time.monotonic() - started
    return examine(runtime, outcome)


def examine(runtime: Runtime, outcome: Outcome) -> Outcome:
    """Count, in the database, what was lost or done twice."""
    with runtime.engine.connect() as conn:
        stored = set(conn.execute(text("SELECT id FROM reports")).scalars())
    outcome.reports_stored = len(stored)
    outcome.lost = len(outcome.accepted - {str(report_id) for report_id in stored})
    outcome.doubled_reports = count(
        runtime,
        "SELECT COUNT(*) FROM (SELECT post_id FROM reports GROUP BY post_id HAVING COUNT(*) > 1) d",
    )
    outcome.doubled_decisions = count(
        runtime,
        "SELECT COUNT(*) FROM (SELECT case_id FROM decisions GROUP BY case_id"
        " HAVING COUNT(*) > 1) d",
    )
    outcome.actions = count(runtime, "SELECT COUNT(*) FROM actions")
    outcome.actions_delivered = count(
        runtime, "SELECT COUNT(*) FROM actions WHERE state = 'delivered'"
    )
    # The built-in platform keeps one restriction per idempotency key (the action's id).
    outcome.applied = count(runtime, "SELECT COUNT(*) FROM platform_restrictions")
    outcome.applied_twice = count(
        runtime,
        "SELECT COUNT(*) FROM (SELECT action_key FROM platform_restrictions GROUP BY action_key"
        " HAVING COUNT(*) > 1) d",
    )
    outcome.unapplied = count(
        runtime,
        "SELECT COUNT(*) FROM actions a WHERE NOT EXISTS (SELECT 1 FROM platform_restrictions r"
        " WHERE r.action_key = CAST(a.id AS TEXT))",
    )
    with runtime.factory() as session:
        report = audit.verify(session=session)
    outcome.chain_checked = report.checked
    outcome.chain_intact = report.intact
    outcome.pending_events = report.pending
    return outcome
