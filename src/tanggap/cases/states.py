"""The life of a case: its states, the one table of the moves between them, and the only code
that moves a case. Any other assignment of ``Case.state`` is checked against the same table (see
``Case`` in models.py), so an illegal move raises wherever it is attempted.

    open ──claim──▶ in_review ──decide──▶ decided ──new report, appeal, flagger answers──▶ open
      │               │  ▲  │ └─four eyes─▶ awaiting_approval ──approve──▶ decided
      │               │  └──┘ renew         (reject ▶ open)
      │               ├─release, lease expired, escalated to a lead──▶ open
      │               └─object to the flagger's report──▶ objected ──new report, answer──▶ open
      └─decided without a reviewer (a bank's or rule's automatic removal, the cascade)──▶ decided
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from tanggap.db.base import rowcount
from tanggap.errors import Conflict


class CaseState(StrEnum):
    """Where a case stands."""

    OPEN = "open"
    IN_REVIEW = "in_review"
    AWAITING_APPROVAL = "awaiting_approval"
    DECIDED = "decided"
    OBJECTED = "objected"


OPEN, IN_REVIEW, AWAITING_APPROVAL, DECIDED, OBJECTED = CaseState
INITIAL = OPEN
# The states a reviewer can work on: waiting in a queue, or held under a claim.
OPEN_STATES: tuple[CaseState, ...] = (OPEN, IN_REVIEW)

TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    # claimed; decided without a reviewer (an automatic removal, the cascade)
    OPEN: frozenset({IN_REVIEW, DECIDED}),
    # renewed; released, lease expired or escalated; four eyes; decided; objected to
    IN_REVIEW: frozenset({IN_REVIEW, OPEN, AWAITING_APPROVAL, DECIDED, OBJECTED}),
    # approved; rejected back to the queue
    AWAITING_APPROVAL: frozenset({DECIDED, OPEN}),
    # a new report asks again, an appeal is filed, the flagger answers an objection
    DECIDED: frozenset({OPEN}),
    # a new report, or the flagger answers the objection
    OBJECTED: frozenset({OPEN}),
}


class IllegalTransition(Conflict):
    """A case was asked to move where its state does not lead."""

    code = "illegal_transition"


class HasState(Protocol):
    """A case as this module sees it."""

    state: CaseState
    claimed_by_id: uuid.UUID | None
    lease_expires_at: Any


def check(current: CaseState | None, target: CaseState) -> None:
    """Raise IllegalTransition unless a case in ``current`` (None: a new case) may move to
    ``target``."""
    if current is None:
        if target != INITIAL:
            raise IllegalTransition(f"a new case starts {INITIAL}, not {target}", field="state")
        return
    if target not in TRANSITIONS[CaseState(current)]:
        raise IllegalTransition(f"a case that is {current} cannot become {target}", field="state")


def move(case: HasState, target: CaseState) -> CaseState:
    """Move ``case`` to ``target`` and return the state it left; a case holds a claim only
    while in review, so any other state releases it."""
    previous = case.state
    case.state = target  # checked against TRANSITIONS by the model
    if target != IN_REVIEW:
        case.claimed_by_id = None
        case.lease_expires_at = None
    return previous


def enter_review(
    session: Session,
    model: Any,
    case_id: uuid.UUID,
    *conditions: ColumnElement[bool],
    **values: Any,
) -> int:
    """Claim a case in one conditional UPDATE (of concurrent claimers only one matches the row):
    it moves to in review from a state that leads there, under ``conditions``; return the number
    of rows claimed (0 or 1)."""
    sources = [state for state, targets in TRANSITIONS.items() if IN_REVIEW in targets]
    result = session.execute(
        update(model)
        .where(model.id == case_id, model.state.in_(sources), *conditions)
        .values(state=IN_REVIEW, **values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)
