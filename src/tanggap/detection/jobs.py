"""Background detection work: retroactive scans (for banks and for new or changed rules), one
batch at a time."""

from __future__ import annotations

from tanggap.actions.jobs import Dispatcher, deliver
from tanggap.detection import scans
from tanggap.runtime import Runtime

SCAN_INTERVAL_SECONDS = 2.0
MEDIA_INTERVAL_SECONDS = 0.5


def sync_rules(runtime: Runtime) -> None:
    """Queue a scan of the stored posts for rules added or changed since the last look."""
    with runtime.factory() as session, session.begin():
        scans.sync_rules(
            session=session, rules=runtime.rules.fresh().rules, actor=scans.RULES_ACTOR
        )


def scan_round(runtime: Runtime) -> int:
    """Notice new or changed rules, then run one batch of the oldest scan under way; return how
    many posts it scanned."""
    sync_rules(runtime)
    with runtime.factory() as session:
        waiting = scans.active(session=session)
    if not waiting:
        return 0
    batch = scans.run_batch(factory=runtime.factory, pipeline=runtime.pipeline, scan_id=waiting[0])
    if batch.actions:
        deliver(runtime, action_ids=batch.actions)
    return batch.scanned


def media_dispatcher(runtime: Runtime) -> Dispatcher:
    """Hash images in the background."""
    return Dispatcher("media", runtime.media.run_once, MEDIA_INTERVAL_SECONDS)


def scan_dispatcher(runtime: Runtime) -> Dispatcher:
    """Run queued scans in the background."""
    return Dispatcher("scans", lambda: scan_round(runtime), SCAN_INTERVAL_SECONDS)
