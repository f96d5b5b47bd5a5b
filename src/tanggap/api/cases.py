"""HTTP: the reviewer's cases, claims and decisions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tanggap.auth.schemas import Caller
from tanggap.cases import claims
from tanggap.cases import service as cases
from tanggap.cases.schemas import (
    ApprovalIn,
    CascadeIn,
    CascadeOut,
    CascadeResult,
    CaseList,
    CaseOut,
    DecisionIn,
    DecisionOut,
    EscalationIn,
    NearDuplicateOut,
)
from tanggap.cases.states import OPEN_STATES, CaseState
from tanggap.errors import Conflict
from tanggap.http import idempotent
from tanggap.http.deps import RuntimeDep, SessionDep, Staff
from tanggap.http.openapi import KEY_SCHEMA, answers
from tanggap.metrics import DECISIONS
from tanggap.policy.service import require_category
from tanggap.review import assignment, decisions
from tanggap.review.cascade import apply_to_near_duplicates as cover_near_duplicates
from tanggap.review.effects import DecisionResult
from tanggap.review.present import case_out, decision_out, near_duplicate_out
from tanggap.reviewers import service as reviewers
from tanggap.runtime import Runtime
from tanggap.validation import POLICY_CATEGORY

router = APIRouter(prefix="/v1/cases", tags=["review"])

# "closed" and "appealed" were documented filter values from the start; no case reaches them
# (an appealed case is open again), so they match nothing, but clients may still send them.
StateFilter = Literal["open", "in_review", "decided", "objected", "closed", "appealed"]
REACHABLE = frozenset(state.value for state in CaseState)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retries with the same key get the first answer, even after the case moved on",
        json_schema_extra=KEY_SCHEMA,
    ),
]


@router.get("", response_model=CaseList)
def list_cases(
    session: SessionDep,
    caller: Staff,
    runtime: RuntimeDep,
    state: Annotated[list[StateFilter] | None, Query()] = None,
    category: Annotated[
        str | None, Query(max_length=64, json_schema_extra={POLICY_CATEGORY: True})
    ] = None,
    language: Annotated[str | None, Query(max_length=8, pattern=r"^[a-z]{2,3}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CaseList:
    """List the cases you may see (open and in review unless ``state`` says otherwise), in the
    order "next case" hands them out."""
    if category is not None:
        require_category(policy=runtime.policy, category=category)
    rows, total = claims.list_cases(
        session=session,
        skills=reviewers.skills_of(session=session, principal_id=caller.id),
        policy=runtime.policy,
        states_wanted=[CaseState(s) for s in state if s in REACHABLE] if state else OPEN_STATES,
        category=category,
        language=language,
        limit=limit,
        offset=offset,
    )
    return CaseList(
        cases=[case_out(session, c) for c in rows], total=total, limit=limit, offset=offset
    )


@router.post(
    "/next",
    response_model=CaseOut,
    responses={204: {"description": "Nothing is waiting that you may take"}, **answers(Conflict)},
)
def next_case(session: SessionDep, caller: Staff, runtime: RuntimeDep) -> Response | CaseOut:
    """Claim the most urgent case you may take, with why it came first; 204 when none waits."""
    case = assignment.assign_next(
        session=session,
        caller=caller,
        lease=timedelta(seconds=runtime.settings.claim_lease_seconds),
        policy=runtime.policy,
        notifier=runtime.notifier,
    )
    session.commit()
    if case is None:
        return Response(status_code=204)
    return case_out(session, case)


@router.get("/{case_id}", response_model=CaseOut)
def get_case(
    case_id: uuid.UUID, session: SessionDep, caller: Staff, runtime: RuntimeDep
) -> CaseOut:
    """Show one case you may see."""
    skills = reviewers.skills_of(session=session, principal_id=caller.id)
    return case_out(
        session, cases.get(session=session, case_id=case_id, skills=skills, policy=runtime.policy)
    )


@router.post("/{case_id}/claim", response_model=CaseOut, responses=answers(Conflict))
def claim_case(
    case_id: uuid.UUID, session: SessionDep, caller: Staff, runtime: RuntimeDep
) -> CaseOut:
    """Claim a case under a lease; claiming again renews your lease."""
    case = assignment.assign(
        session=session,
        caller=caller,
        case_id=case_id,
        lease=timedelta(seconds=runtime.settings.claim_lease_seconds),
        policy=runtime.policy,
        notifier=runtime.notifier,
    )
    session.commit()
    return case_out(session, case)


@router.post("/{case_id}/release", response_model=CaseOut, responses=answers(Conflict))
def release_case(
    case_id: uuid.UUID, session: SessionDep, caller: Staff, runtime: RuntimeDep
) -> CaseOut:
    """Give a case you hold back to its queue."""
    _visible(session, caller, runtime, case_id)
    case = claims.release(session=session, caller=caller, case_id=case_id)
    session.commit()
    return case_out(session, case)


@router.post(
    "/{case_id}/decision", response_model=DecisionOut, status_code=201, responses=answers(Conflict)
)
def decide_case(
    case_id: uuid.UUID,
    data: DecisionIn,
    session: SessionDep,
    caller: Staff,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Decide a case you hold; its actions are queued with it and delivered right after.
    Retries with the same ``Idempotency-Key`` get the first answer."""

    def decide() -> DecisionResult:
        _visible(session, caller, runtime, case_id)
        return decisions.decide_case(
            session=session,
            caller=caller,
            case_id=case_id,
            data=data,
            policy=runtime.policy,
            notifier=runtime.notifier,
            default_platform=runtime.settings.platform,
        )

    answer, result = _decide_once(
        session=session,
        caller=caller,
        runtime=runtime,
        endpoint="POST /v1/cases/{case_id}/decision",
        key=idempotency_key,
        payload=_payload(case_id, data.model_dump(mode="json")),
        status=201,
        decide=decide,
    )
    if result is not None:
        DECISIONS.labels(result.decision.outcome).inc()
    return answer


@router.post("/{case_id}/approval", response_model=DecisionOut, responses=answers(Conflict))
def approve_decision(
    case_id: uuid.UUID,
    data: ApprovalIn,
    session: SessionDep,
    caller: Staff,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Approve or reject a decision that needs a second reviewer (``ban_channel``,
    ``ban_member``). Retries with the same ``Idempotency-Key`` get the first answer."""

    def approve() -> DecisionResult:
        return decisions.approve_decision(
            session=session,
            caller=caller,
            case_id=case_id,
            data=data,
            policy=runtime.policy,
            notifier=runtime.notifier,
            default_platform=runtime.settings.platform,
        )

    answer, _ = _decide_once(
        session=session,
        caller=caller,
        runtime=runtime,
        endpoint="POST /v1/cases/{case_id}/approval",
        key=idempotency_key,
        payload=_payload(case_id, data.model_dump(mode="json")),
        status=200,
        decide=approve,
    )
    return answer


@router.post("/{case_id}/escalate", response_model=CaseOut, responses=answers(Conflict))
def escalate_case(
    case_id: uuid.UUID,
    data: EscalationIn,
    session: SessionDep,
    caller: Staff,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Hand a case you hold to the leads, with the reason (they are alerted). Retries with the
    same ``Idempotency-Key`` get the first answer."""

    def work() -> tuple[int, dict[str, Any]]:
        # Inside the work: an escalated case may be hidden from its reviewer, who must still
        # get the stored answer on a retry.
        _visible(session, caller, runtime, case_id)
        case = decisions.escalate_case(
            session=session, caller=caller, case_id=case_id, data=data, notifier=runtime.notifier
        )
        return 200, case_out(session, case).model_dump(mode="json")

    status, body, fresh = idempotent.run(
        session=session,
        caller=caller,
        endpoint="POST /v1/cases/{case_id}/escalate",
        key=idempotency_key,
        payload=_payload(case_id, data.model_dump(mode="json")),
        secret_key=runtime.settings.secret_key,
        work=work,
    )
    return idempotent.response(status, body, fresh)


def _payload(case_id: uuid.UUID, body: dict[str, Any]) -> dict[str, Any]:
    """What a key stands for: the body and the case it was sent to, so the same key sent to
    another case is refused as reused."""
    return {"case_id": str(case_id), "body": body}


def _decide_once(
    *,
    session: Session,
    caller: Caller,
    runtime: Runtime,
    endpoint: str,
    key: str | None,
    payload: dict[str, Any],
    status: int,
    decide: Callable[[], DecisionResult],
) -> tuple[JSONResponse, DecisionResult | None]:
    """Run ``decide`` once per ``Idempotency-Key`` and deliver its actions after the commit;
    return the answer and the fresh result (None on a replay, which delivers nothing)."""
    decided: list[DecisionResult] = []

    def work() -> tuple[int, dict[str, Any]]:
        decided[:] = [decide()]
        if key is None:
            return status, {}
        # The stored answer is the decision as committed: its actions not yet delivered.
        session.flush()
        return status, decision_out(session, decided[0].decision).model_dump(mode="json")

    status, body, fresh = idempotent.run(
        session=session,
        caller=caller,
        endpoint=endpoint,
        key=key,
        payload=payload,
        secret_key=runtime.settings.secret_key,
        work=work,
    )
    if not fresh:
        return idempotent.response(status, body, fresh), None
    result = decided[0]
    _deliver(runtime, result)
    if key is None:
        # Nothing is replayed without a key: answer with the actions as delivery left them.
        body = decision_out(session, result.decision).model_dump(mode="json")
    return idempotent.response(status, body, fresh), result


@router.get("/{case_id}/near-duplicates", response_model=list[NearDuplicateOut])
def list_near_duplicates(
    case_id: uuid.UUID, session: SessionDep, caller: Staff, runtime: RuntimeDep
) -> list[NearDuplicateOut]:
    """The posts carrying (nearly) the same text, attached when the case's post was removed."""
    skills = reviewers.skills_of(session=session, principal_id=caller.id)
    cases.get(session=session, case_id=case_id, skills=skills, policy=runtime.policy)
    return near_duplicate_out(session, case_id)


@router.post(
    "/{case_id}/near-duplicates/apply", response_model=CascadeOut, responses=answers(Conflict)
)
def apply_to_near_duplicates(
    case_id: uuid.UUID, data: CascadeIn, session: SessionDep, caller: Staff, runtime: RuntimeDep
) -> CascadeOut:
    """Let the case's removal cover its near-duplicates (all, or the ``link_ids`` named)."""
    results, queued = cover_near_duplicates(
        session=session,
        caller=caller,
        case_id=case_id,
        link_ids=data.link_ids,
        policy=runtime.policy,
        notifier=runtime.notifier,
    )
    session.commit()
    runtime.deliver_now([a.id for a in queued], reason=str(case_id))
    return CascadeOut(
        results=[
            CascadeResult(
                link_id=r.link.id,
                state=r.link.state,
                case_id=r.case.id if r.case else None,
                decision_id=r.decision.id if r.decision else None,
                reason=r.reason,
            )
            for r in results
        ]
    )


def _visible(session: Session, caller: Caller, runtime: Runtime, case_id: uuid.UUID) -> None:
    """Refuse a case the caller may not see (a category they are not cleared for, say) with
    the 404 of a case that does not exist, before any answer could tell it exists."""
    skills = reviewers.skills_of(session=session, principal_id=caller.id)
    cases.get(session=session, case_id=case_id, skills=skills, policy=runtime.policy)


def _deliver(runtime: Runtime, result: DecisionResult) -> None:
    """Deliver a committed decision's actions at once; the outbox retries whatever fails."""
    runtime.deliver_now([a.id for a in result.actions], reason=str(result.decision.id))
