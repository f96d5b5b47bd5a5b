"""The case state machine: every pair of states is either a legal move or refused with a domain
error, wherever the move is attempted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from itertools import product

import pytest
from sqlalchemy.orm.attributes import set_committed_value

import tanggap.tables  # noqa: F401  (every table, so the mapper configures)
from tanggap.cases import states
from tanggap.cases.models import Case
from tanggap.cases.states import TRANSITIONS, CaseState, IllegalTransition

LEGAL = {
    (CaseState.OPEN, CaseState.IN_REVIEW),  # claimed
    (CaseState.OPEN, CaseState.DECIDED),  # decided without a reviewer
    (CaseState.IN_REVIEW, CaseState.IN_REVIEW),  # lease renewed
    (CaseState.IN_REVIEW, CaseState.OPEN),  # released, lease expired, escalated
    (CaseState.IN_REVIEW, CaseState.AWAITING_APPROVAL),  # four eyes
    (CaseState.IN_REVIEW, CaseState.DECIDED),
    (CaseState.IN_REVIEW, CaseState.OBJECTED),
    (CaseState.AWAITING_APPROVAL, CaseState.DECIDED),  # approved
    (CaseState.AWAITING_APPROVAL, CaseState.OPEN),  # rejected
    (CaseState.DECIDED, CaseState.OPEN),  # reopened: new report, appeal, flagger's answer
    (CaseState.OBJECTED, CaseState.OPEN),
}


def case_in(state: CaseState) -> Case:
    """A case loaded as ``state`` (set as the database would, without a move)."""
    case = Case(state=states.INITIAL)
    set_committed_value(case, "state", state)
    case.claimed_by_id = uuid.uuid4()
    case.lease_expires_at = datetime(2026, 12, 2, tzinfo=UTC)
    return case


def test_the_table_is_the_documented_one() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == LEGAL
    assert set(TRANSITIONS) == set(CaseState)


@pytest.mark.parametrize(("current", "target"), list(product(CaseState, CaseState)))
def test_every_pair_is_a_legal_move_or_a_domain_error(
    current: CaseState, target: CaseState
) -> None:
    by_move, by_assignment = case_in(current), case_in(current)
    if (current, target) in LEGAL:
        assert states.move(by_move, target) == current
        assert by_move.state == target
        by_assignment.state = target  # the model obeys the same table
        assert by_assignment.state == target
        return
    with pytest.raises(IllegalTransition) as refused:
        states.move(by_move, target)
    assert refused.value.status_code == 409 and refused.value.field == "state"
    assert f"{current} cannot become {target}" in refused.value.message
    assert by_move.state == current  # nothing moved
    with pytest.raises(IllegalTransition):
        by_assignment.state = target
    assert by_assignment.state == current


def test_a_case_holds_a_claim_only_in_review() -> None:
    kept = case_in(CaseState.IN_REVIEW)
    states.move(kept, CaseState.IN_REVIEW)
    assert kept.claimed_by_id is not None and kept.lease_expires_at is not None
    for target in (CaseState.OPEN, CaseState.DECIDED, CaseState.OBJECTED):
        case = case_in(CaseState.IN_REVIEW)
        states.move(case, target)
        assert (case.claimed_by_id, case.lease_expires_at) == (None, None)


@pytest.mark.parametrize("state", [s for s in CaseState if s != states.INITIAL])
def test_a_new_case_starts_open(state: CaseState) -> None:
    assert Case(state=states.INITIAL).state == CaseState.OPEN
    with pytest.raises(IllegalTransition):
        Case(state=state)


def test_an_unknown_state_is_refused() -> None:
    case = case_in(CaseState.OPEN)
    with pytest.raises(ValueError, match="'closed' is not a valid CaseState"):
        case.state = "closed"  # type: ignore[assignment]
