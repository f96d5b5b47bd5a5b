"""Two real ``tanggap worker`` processes on one PostgreSQL: every unit of work is done exactly
once, and the commit that creates work wakes a worker at once (LISTEN/NOTIFY)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from tanggap.actions.models import Action
from tanggap.audit.models import AuditEvent
from tanggap.auth import service as auth
from tanggap.auth.schemas import Caller
from tanggap.builtin_pages.models import Restriction
from tanggap.cases.models import Case
from tanggap.cases.schemas import DecisionIn
from tanggap.detection.models import ScanJob, ScanState, Signal
from tanggap.notify.models import Notification
from tanggap.outbox.retry import DeliveryState
from tanggap.posts import service as posts
from tanggap.posts.schemas import PostIn
from tanggap.review.decisions import decide_case
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, decision_body, post_body, report_body
from tests.integration.test_banks import PROPAGANDA, make_bank
from tests.webhook_receiver import Receiver, serve
from tests.workers import Worker, start_worker, wait_until

STORED = 40
SCAN_BATCH = "8"  # so that the scan's batches are shared between the workers
REPORTED = 16
HOUR = "3600"


@pytest.fixture(autouse=True)
def _postgresql_only(database_backend: tuple[str, str]) -> None:
    if database_backend[0] != "postgresql":
        pytest.skip("several worker processes need PostgreSQL (SQLite has one writer)")


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    hook = Receiver()
    server, url = serve(hook)
    yield hook, url
    server.shutdown()


@pytest.fixture
def desk_token(client: TestClient, tokens: Tokens, receiver: tuple[Receiver, str]) -> str:
    """A token of a flagger organisation whose webhook points at the receiver."""
    hook, url = receiver
    org = client.post(
        "/v1/flaggers",
        json={"name": "Worker Desk", "country": "ID", "webhook_url": url},
        headers=bearer(tokens.admin),
    ).json()
    hook.secret = org["webhook_secret"]
    made = client.post(f"/v1/flaggers/{org['org_id']}/tokens", headers=bearer(tokens.admin))
    return str(made.json()["token"])


def store_posts(runtime: Runtime, texts: list[str], channel: str) -> None:
    """Ingest posts as a platform would, in one transaction."""
    with runtime.factory() as session, session.begin():
        platform = auth.create_principal(session=session, role="platform", name="bulk platform")
        for message_id, words in enumerate(texts, start=1):
            posts.ingest(
                session=session,
                data=PostIn(**post_body(channel=channel, message_id=message_id, text=words)),
                keyring=runtime.settings.keyring,
                actor=f"platform:{platform.id}",
                inspector=runtime.pipeline,
                owner_id=platform.id,
            )


def per_subject(runtime: Runtime, action: str) -> Counter[str]:
    with runtime.factory() as session:
        return Counter(
            session.execute(
                select(AuditEvent.subject_id).where(AuditEvent.action == action)
            ).scalars()
        )


def count(runtime: Runtime, *conditions: object, model: type = Case) -> int:
    with runtime.factory() as session:
        query = select(func.count()).select_from(model).where(*conditions)  # type: ignore[arg-type]
        return int(session.execute(query).scalar_one())


@pytest.fixture
def workers(database_url: str) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.kill()


def test_two_workers_do_every_unit_of_work_exactly_once(
    client: TestClient,
    tokens: Tokens,
    runtime: Runtime,
    database_url: str,
    receiver: tuple[Receiver, str],
    desk_token: str,
    workers: list[Worker],
) -> None:
    hook, _ = receiver
    for _ in range(2):
        workers.append(start_worker(database_url, scan_batch_size=SCAN_BATCH))
    for worker in workers:
        worker.wait_for("wake.listening")
    store_posts(runtime, [f"{PROPAGANDA} bagian {n}" for n in range(STORED)], "arsip")
    case_ids = []
    for message_id in range(1, REPORTED + 1):
        body = post_body(message_id=message_id, text=f"Arisan online {message_id} untung pasti")
        client.post("/v1/posts", json=body, headers=bearer(tokens.platform))
        receipt = client.post(
            "/v1/reports",
            json=report_body(f"https://t.me/beritakita/{message_id}"),
            headers=bearer(desk_token),
        )
        assert receipt.status_code == 202, receipt.text
        case_ids.append(receipt.json()["case_id"])
    make_bank(client, tokens, "auto_remove")
    added = client.post(
        "/v1/banks/bank-auto_remove/entries",
        json={"texts": [PROPAGANDA]},
        headers=bearer(tokens.admin),
    )
    assert added.status_code == 200 and added.json()["scan_id"], added.text

    def left() -> dict[str, int]:
        waiting = {
            "cases to triage": count(runtime, Case.triage_due.is_(True)),
            "scans": count(runtime, ScanJob.state != ScanState.DONE, model=ScanJob),
            "actions": count(runtime, Action.state != DeliveryState.DELIVERED, model=Action),
            "webhooks": count(
                runtime, Notification.state != DeliveryState.DELIVERED, model=Notification
            ),
        }
        return {what: n for what, n in waiting.items() if n}

    wait_until(lambda: not left(), timeout=60)
    assert left() == {}, "".join(worker.seen[-1] for worker in workers)
    assert [worker.stop() for worker in workers] == [0, 0]

    assert per_subject(runtime, "case.triaged") == dict.fromkeys(case_ids, 1)
    rounds = [
        e
        for w in workers
        for name in ("dispatcher.round", "dispatcher.round_failed")
        for e in w.events(name)
        if e["dispatcher"] == "triage"
    ]
    # Each case through triage once; a round that failed midway counts what it committed. Two
    # workers may only fail a round the way a busy database may (a deadlock, a serialisation
    # failure: an OperationalError the next round gets past), never on a bug.
    failed = [e for e in rounds if e["event"] == "dispatcher.round_failed"]
    assert all("OperationalError" in e.get("exception", "") for e in failed), failed
    assert sum(e["done"] for e in rounds) == count(runtime), failed
    with runtime.factory() as session:
        scan = session.execute(select(ScanJob)).scalar_one()
        matched_posts = Counter(
            session.execute(select(Signal.post_id).where(Signal.kind == "hash_match")).scalars()
        )
        action_ids = [str(a) for a in session.execute(select(Action.id)).scalars()]
        notifications = session.execute(select(func.count()).select_from(Notification))
        sent = notifications.scalar_one()
    assert (scan.scanned, scan.matched) == (STORED + REPORTED, STORED)
    assert len(matched_posts) == STORED and set(matched_posts.values()) == {1}
    assert len(action_ids) == STORED
    assert per_subject(runtime, "action.delivered") == dict.fromkeys(action_ids, 1)
    assert count(runtime, model=Restriction) == STORED
    assert sent >= REPORTED and len(hook.accepted) == sent and hook.duplicates == []


def test_a_commit_wakes_a_worker_long_before_its_poll(
    client: TestClient, tokens: Tokens, runtime: Runtime, database_url: str, workers: list[Worker]
) -> None:
    workers.append(
        start_worker(
            database_url,
            triage_interval_seconds=HOUR,
            action_interval_seconds=HOUR,
            action_retry_seconds=HOUR,
            webhook_interval_seconds=HOUR,
            scan_interval_seconds=HOUR,
            deadline_watch_interval_seconds=HOUR,
        )
    )
    workers[0].wait_for("wake.listening")
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    receipt = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger)).json()
    case_id = uuid.UUID(receipt["case_id"])
    assert wait_until(lambda: count(runtime, Case.triaged_at.is_not(None)) == 1, timeout=10)

    claimed = client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    assert claimed.status_code == 200, claimed.text
    with runtime.factory() as session, session.begin():  # no delivery after this commit
        reviewer = auth.authenticate(session=session, token=tokens.reviewer)
        assert isinstance(reviewer, Caller)
        decide_case(
            session=session,
            caller=reviewer,
            case_id=case_id,
            data=DecisionIn.model_validate(decision_body()),
            policy=runtime.policy,
            notifier=runtime.notifier,
        )
    assert count(runtime, model=Action) == 1
    assert wait_until(
        lambda: count(runtime, Action.state == DeliveryState.DELIVERED, model=Action) == 1,
        timeout=10,
    )
    assert workers[0].stop() == 0


def test_a_worker_that_loses_its_connections_comes_back_and_does_the_work_once(
    client: TestClient, tokens: Tokens, runtime: Runtime, database_url: str, workers: list[Worker]
) -> None:
    workers.append(start_worker(database_url, triage_interval_seconds=HOUR))
    workers[0].wait_for("wake.listening")
    with runtime.engine.connect() as admin:  # what a database restart does to every session
        cut = admin.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert cut >= 1
    workers[0].wait_for("wake.listen_lost")
    workers[0].wait_for("wake.listening")  # opened again: wake-ups work once more
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    receipt = client.post("/v1/reports", json=report_body(), headers=bearer(tokens.flagger))
    assert wait_until(lambda: count(runtime, Case.triaged_at.is_not(None)) == 1, timeout=10)
    assert workers[0].stop() == 0
    assert per_subject(runtime, "case.triaged") == {receipt.json()["case_id"]: 1}
