"""``tanggap worker``: the background jobs without the HTTP server, until SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import httpx
import structlog

from tanggap import jobs
from tanggap.cli.common import checkpoint_key, load_settings, runtime_for

log = structlog.get_logger(__name__)


def worker() -> None:
    """Run every background job (outbox, triage, deadline watch, scans, audit sealer) until
    stopped."""
    settings = load_settings()  # refuse bad settings before anything starts
    checkpoint_key(settings)  # the audit sealer signs with it: a missing key stops the start here
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("worker.stopping", signal=signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with (
        runtime_for(settings) as runtime,
        httpx.Client(timeout=settings.webhook_timeout_seconds) as client,
    ):
        running = jobs.RunningJobs(jobs.background_jobs(runtime, client), settings.database_url)
        running.start()
        log.info(
            "worker.started",
            jobs=sorted(running.dispatchers),
            wake_ups=running.listener is not None,
            serving_processes_run_jobs_too=settings.jobs == "inline",
        )
        while not stopping.wait(1.0):
            pass
        running.stop()  # each job finishes its round in flight
    log.info("worker.stopped")
