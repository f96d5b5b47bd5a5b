"""The two roles: ``TANGGAP_JOBS=inline`` serving processes run every job, ``worker`` ones only
what lives in their own memory; ``tanggap worker`` runs the rest until SIGTERM, on either
database."""

from __future__ import annotations

import os
import subprocess

import httpx
from sqlalchemy import func, select

from tanggap import jobs
from tanggap.cases.models import Case
from tanggap.config import Settings
from tanggap.runtime import Runtime, build_runtime
from tests.factories import seed_cases
from tests.workers import TANGGAP, start_worker, wait_until

SHARED_JOBS = [
    "action-dispatcher",
    "audit-sealer",
    "deadline-watch",
    "retention",
    "scans",
    "triage",
    "webhook-dispatcher",
]


def test_a_serving_process_runs_the_jobs_of_its_role(settings: Settings) -> None:
    names = {}
    for role in ("inline", "worker"):
        runtime = build_runtime(settings.model_copy(update={"jobs": role}))
        with httpx.Client() as client:
            names[role] = sorted(d.name for d in jobs.serving_jobs(runtime, client))
            assert sorted(d.name for d in jobs.background_jobs(runtime, client)) == SHARED_JOBS
        runtime.close()
    assert names == {"inline": sorted([*SHARED_JOBS, "media"]), "worker": ["media"]}


def _waiting_for_triage(runtime: Runtime) -> int:
    with runtime.factory() as session:
        return session.execute(
            select(func.count()).select_from(Case).where(Case.triage_due.is_(True))
        ).scalar_one()


def test_the_worker_runs_the_jobs_then_stops_cleanly_on_sigterm(
    database_url: str, runtime: Runtime
) -> None:
    seed_cases(runtime, 3)
    worker = start_worker(database_url, triage_interval_seconds="0.2")
    try:
        assert worker.wait_for("worker.started")["jobs"] == SHARED_JOBS
        assert wait_until(lambda: _waiting_for_triage(runtime) == 0)
        assert worker.stop() == 0
        worker.wait_for("worker.stopped", timeout=5)
    finally:
        worker.kill()


def test_the_worker_refuses_bad_settings_in_one_line_naming_them(database_url: str) -> None:
    done = subprocess.run(
        [TANGGAP, "worker"],
        env={**os.environ, "TANGGAP_DATABASE_URL": database_url, "TANGGAP_JOBS": "everywhere"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: TANGGAP_JOBS: Input should be 'inline' or 'worker'"
    ]
