"""The outbox engine's guarantees under trouble: a result recorded only under the lease it was
sent with, a slow batch that leaves a row whose lease ran out unsent, and one row's failure to
record that strands none of the others."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tanggap.actions.delivery import ActionDelivery
from tanggap.actions.models import Action
from tanggap.actions.platform import PlatformAction, RecordingAdapter
from tanggap.db.base import utcnow
from tanggap.outbox import DeliveryFailed, DeliveryRefused, deliver_due
from tanggap.runtime import Runtime
from tests.factories import Tokens, bearer, decision_body, post_body, report_body


@pytest.fixture
def pending(client: TestClient, tokens: Tokens, runtime: Runtime) -> list[str]:
    """Three decided removals whose takedowns wait in the outbox (the platform refused once)."""
    runtime.adapter = RecordingAdapter(fail_times=3)
    for message_id in (1, 2, 3):
        body = post_body(message_id=message_id)
        client.post("/v1/posts", json=body, headers=bearer(tokens.platform))
        link = f"https://t.me/beritakita/{message_id}"
        receipt = client.post(
            "/v1/reports", json=report_body(link), headers=bearer(tokens.flagger)
        ).json()
        client.post(f"/v1/cases/{receipt['case_id']}/claim", headers=bearer(tokens.reviewer))
        decided = client.post(
            f"/v1/cases/{receipt['case_id']}/decision",
            json=decision_body(),
            headers=bearer(tokens.reviewer),
        )
        assert decided.json()["actions"][0]["state"] == "pending"
    return [str(row[0]) for row in rows(runtime)]


def rows(runtime: Runtime) -> list[Any]:
    with runtime.factory() as session:
        return list(
            session.execute(
                select(Action.id, Action.state, Action.attempts, Action.next_attempt_at).order_by(
                    Action.created_at
                )
            ).all()
        )


@dataclass
class Platform:
    """A platform adapter that runs ``meanwhile`` while it is being called."""

    meanwhile: Callable[[PlatformAction], None] = lambda action: None
    applied: list[str] = field(default_factory=list)

    def apply(self, action: PlatformAction) -> None:
        self.meanwhile(action)
        self.applied.append(action.idempotency_key)


def delivery(
    runtime: Runtime,
    platform: Platform,
    lease: timedelta = timedelta(minutes=2),
    settled: Callable[[Session, uuid.UUID, uuid.UUID], None] | None = None,
) -> ActionDelivery:
    return ActionDelivery(
        adapter=platform,
        policy=runtime.policy,
        retry_seconds=5,
        max_attempts=20,
        on_decision_delivered=settled or (lambda session, case_id, decision_id: None),
        lease=lease,
    )


LATER = timedelta(hours=2)  # past the back-off of the first failure


def test_a_result_counts_only_under_the_lease_it_was_sent_with(
    runtime: Runtime, pending: list[str]
) -> None:
    first = pending[0]

    def claimed_elsewhere(action: PlatformAction) -> None:
        # While this worker waits for the platform, its lease runs out and another worker
        # claims the row (a new lease end).
        if action.idempotency_key == first:
            with runtime.factory() as session, session.begin():
                session.execute(
                    update(Action)
                    .where(Action.id == uuid.UUID(first))
                    .values(next_attempt_at=utcnow() + timedelta(days=1))
                )

    platform = Platform(meanwhile=claimed_elsewhere)
    done = deliver_due(delivery(runtime, platform), factory=runtime.factory, now=utcnow() + LATER)
    assert done == 2 and first in platform.applied  # sent, but its result belongs to the other
    states = {str(row[0]): (row[1], row[2]) for row in rows(runtime)}
    assert states[first] == ("pending", 1)  # untouched: the other worker records it
    assert {states[a] for a in pending[1:]} == {("delivered", 2)}


def test_a_row_whose_lease_ran_out_before_its_turn_is_not_sent(
    runtime: Runtime, pending: list[str]
) -> None:
    platform = Platform()
    later = utcnow() + LATER
    kind = delivery(runtime, platform, lease=timedelta(0))
    assert deliver_due(kind, factory=runtime.factory, now=later, limit=len(pending)) == 0
    assert platform.applied == []
    assert {(row[1], row[2], row[3]) for row in rows(runtime)} == {("pending", 1, later)}
    # They are due again at once: the next claim (here or elsewhere) sends them.
    assert deliver_due(delivery(runtime, platform), factory=runtime.factory, now=later) == 3
    assert sorted(platform.applied) == sorted(pending)


def test_a_row_that_cannot_be_recorded_strands_no_other(
    runtime: Runtime, pending: list[str]
) -> None:
    troubled = uuid.UUID(pending[1])

    def settle(session: Session, case_id: uuid.UUID, decision_id: uuid.UUID) -> None:
        action_id = session.execute(
            select(Action.id).where(Action.decision_id == decision_id)
        ).scalar_one()
        if action_id == troubled:
            raise RuntimeError("the follow-up failed")

    platform = Platform()
    later = utcnow() + LATER
    kind = delivery(runtime, platform, settled=settle)
    assert deliver_due(kind, factory=runtime.factory, now=later) == 2
    states = {str(row[0]): row for row in rows(runtime)}
    assert {states[a][1] for a in (pending[0], pending[2])} == {"delivered"}
    _, state, attempts, next_attempt_at = states[str(troubled)]
    assert (state, attempts) == ("pending", 2)  # counted as a failed attempt, retried later
    assert next_attempt_at > later
    with runtime.factory() as session:
        error = session.execute(select(Action.last_error).where(Action.id == troubled)).scalar_one()
    assert error is not None and "could not be recorded" in error


def test_a_refusal_for_good_fails_at_once_and_a_named_wait_is_kept(
    runtime: Runtime, pending: list[str]
) -> None:
    refused, waited = uuid.UUID(pending[0]), uuid.UUID(pending[1])

    def answer(action: PlatformAction) -> None:
        if action.idempotency_key == str(refused):
            raise DeliveryRefused("HTTP 422: no such message")
        if action.idempotency_key == str(waited):
            raise DeliveryFailed("HTTP 429: too many requests", retry_after=3600 * 5)

    later = utcnow() + LATER
    assert deliver_due(delivery(runtime, Platform(answer)), factory=runtime.factory, now=later) == 1
    with runtime.factory() as session:
        found = {
            row.id: row
            for row in session.execute(select(Action).where(Action.id.in_([refused, waited])))
            .scalars()
            .all()
        }
    assert (found[refused].state, found[refused].attempts) == ("failed", 2)  # no back-off
    assert found[refused].last_error == "DeliveryRefused: HTTP 422: no such message"
    # The back-off of a second failure is 10 s; the platform asked for five hours.
    assert found[waited].state == "pending"
    assert found[waited].next_attempt_at == later + timedelta(hours=5)
