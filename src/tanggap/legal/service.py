"""The register's operations: intake, assessment, decision, and reading requests back. The
transition table lives here; nothing else assigns a request's state."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.audit.signing import CheckpointKeyError
from tanggap.auth.schemas import Caller
from tanggap.db.base import utcnow
from tanggap.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from tanggap.legal import letters
from tanggap.legal.links import link_outcomes
from tanggap.legal.models import (
    LegalDocument,
    LegalLetter,
    LegalRequest,
    RequestKind,
    RequestState,
)
from tanggap.legal.schemas import (
    AssessmentIn,
    Document,
    LegalRequestIn,
    Outcome,
    RequestFilter,
)
from tanggap.legal.signed import record_instruction
from tanggap.policy.schemas import Policy
from tanggap.reports.models import Report
from tanggap.validation import bounded_time, normalise_country

TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    RequestState.RECEIVED: frozenset({RequestState.ASSESSED}),
    RequestState.ASSESSED: frozenset(
        {RequestState.GRANTED, RequestState.REFUSED, RequestState.ANSWERED}
    ),
    RequestState.GRANTED: frozenset(),
    RequestState.REFUSED: frozenset(),
    RequestState.ANSWERED: frozenset(),
}
OUTCOME_STATES: dict[Outcome, RequestState] = {
    "grant": RequestState.GRANTED,
    "refuse": RequestState.REFUSED,
    "answer": RequestState.ANSWERED,
}
KeySource = Callable[[], Ed25519PrivateKey]


def _move(request: LegalRequest, to: RequestState) -> None:
    if to not in TRANSITIONS[request.state]:
        raise Conflict(f"request {request.id} is {request.state}; it cannot become {to}")
    request.state = to


def register(
    *, session: Session, caller: Caller, data: LegalRequestIn, documents: list[Document]
) -> LegalRequest:
    """Register a request and the digests of its documents (never their bytes)."""
    for index, report_id in enumerate(data.report_ids):
        if session.get(Report, report_id) is None:
            raise InvalidInput(f"report {index + 1}: no report {report_id}", field="report_ids")
    request = LegalRequest(
        kind=data.kind,
        authority=data.authority,
        country=data.country,
        legal_basis=data.legal_basis,
        reference=data.reference,
        received_at=data.received_at,
        scope={
            "links": data.links,
            "channels": data.channels,
            "pseudonyms": data.pseudonyms,
            "report_ids": sorted({str(r) for r in data.report_ids}),
        },
        state=RequestState.RECEIVED,
        registered_by_id=caller.id,
        registered_at=utcnow(),
    )
    session.add(request)
    session.flush()
    session.add_all(
        LegalDocument(
            request_id=request.id,
            position=position,
            sha256=document.sha256,
            size=document.size,
            media_type=document.media_type,
        )
        for position, document in enumerate(documents)
    )
    audit.record(
        session=session,
        actor=caller.audit_actor,
        action="legal.request_registered",
        subject_type="legal_request",
        subject_id=request.id,
        data={
            "kind": str(request.kind),
            "country": request.country,
            "documents": [d.sha256 for d in documents],
        },
    )
    session.flush()
    return request


def get(*, session: Session, request_id: uuid.UUID) -> LegalRequest:
    """Return the request ``request_id`` or raise NotFound."""
    request = session.get(LegalRequest, request_id)
    if request is None:
        raise NotFound(f"no request {request_id}", field="request_id")
    return request


def list_requests(*, session: Session, where: RequestFilter) -> list[LegalRequest]:
    """Return the requests that match ``where``, newest received first."""
    since = bounded_time(where.since, "since") if where.since else None
    until = bounded_time(where.until, "until") if where.until else None
    if since and until and until < since:
        raise InvalidInput("the range runs backwards: until is before since", field="until")
    query = select(LegalRequest).order_by(LegalRequest.received_at.desc(), LegalRequest.id)
    if where.kind is not None:
        query = query.where(LegalRequest.kind == where.kind)
    if where.country:
        try:
            country = normalise_country(where.country)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="country") from None
        query = query.where(LegalRequest.country == country)
    if where.state is not None:
        query = query.where(LegalRequest.state == where.state)
    if since is not None:
        query = query.where(LegalRequest.received_at >= since)
    if until is not None:
        query = query.where(LegalRequest.received_at < until)
    return list(session.execute(query).scalars())


def _locked(session: Session, request_id: uuid.UUID) -> LegalRequest:
    found = session.execute(
        select(LegalRequest).where(LegalRequest.id == request_id).with_for_update()
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no request {request_id}", field="request_id")
    return found


def assess(
    *,
    session: Session,
    caller: Caller,
    request_id: uuid.UUID,
    data: AssessmentIn,
    now: datetime | None = None,
) -> LegalRequest:
    """Record a legal reviewer's finding on a received request."""
    request = _locked(session, request_id)
    _move(request, RequestState.ASSESSED)
    request.assessed_by_id = caller.id
    request.assessed_at = now or utcnow()
    request.court_order = data.court_order
    request.names_suspect = data.names_suspect
    request.finding = data.finding
    audit.record(
        session=session,
        actor=caller.audit_actor,
        action="legal.request_assessed",
        subject_type="legal_request",
        subject_id=request.id,
        data={"court_order": data.court_order, "names_suspect": data.names_suspect},
    )
    session.flush()
    return request


def _check_outcome(request: LegalRequest, outcome: Outcome, caller: Caller, policy: str) -> None:
    if request.kind != RequestKind.USER_DATA:
        if outcome != "answer":
            raise InvalidInput(
                f"a {request.kind} request is answered, not granted or refused", field="outcome"
            )
        return
    if outcome == "answer":
        raise InvalidInput("a request for user data is granted or refused", field="outcome")
    if outcome == "refuse":
        return
    if policy != "court_order_suspect":
        raise InvalidInput(
            f"the policy {policy} refuses every request for user data", field="outcome"
        )
    if not (request.court_order and request.names_suspect):
        raise InvalidInput(
            "only a court order naming a criminal suspect may be granted (see the assessment)",
            field="outcome",
        )
    if not request.scope.get("pseudonyms"):
        raise InvalidInput("the request names no pseudonym to instruct on", field="outcome")
    if request.assessed_by_id == caller.id:
        raise Forbidden("four eyes: someone other than the assessor must approve a grant")


def decide(
    *,
    session: Session,
    caller: Caller,
    request_id: uuid.UUID,
    outcome: Outcome,
    policy: Policy,
    key: KeySource,
    now: datetime | None = None,
) -> LegalRequest:
    """Grant (four eyes, a signed instruction), refuse (letters) or answer (letters) an
    assessed request."""
    request = _locked(session, request_id)
    if request.state != RequestState.ASSESSED:
        raise Conflict(
            f"request {request.id} is {request.state}; only an assessed request is decided",
            field="request_id",
        )
    rule = policy.legal.data_requests
    _check_outcome(request, outcome, caller, rule)
    _move(request, OUTCOME_STATES[outcome])
    request.decided_by_id = caller.id
    request.decided_at = now or utcnow()
    request.policy = rule
    data: dict[str, object] = {"outcome": outcome, "state": str(request.state), "policy": rule}
    if outcome == "grant":
        try:
            signing_key = key()
        except CheckpointKeyError as exc:
            raise Unavailable(str(exc), field="TANGGAP_AUDIT_KEY_FILE") from None
        signed = record_instruction(session=session, request=request, key=signing_key)
        data |= {"instruction_sha256": signed.sha256, "key_id": signed.key_id}
    else:
        data["letters"] = _write_letters(session, request)
    audit.record(
        session=session,
        actor=caller.audit_actor,
        action=f"legal.request_{request.state}",
        subject_type="legal_request",
        subject_id=request.id,
        data=data,
    )
    session.flush()
    return request


def _write_letters(session: Session, request: LegalRequest) -> dict[str, str]:
    assert request.decided_at is not None and request.policy is not None
    facts = letters.LetterFacts(
        request_id=str(request.id),
        kind=str(request.kind),
        authority=request.authority,
        reference=request.reference,
        legal_basis=request.legal_basis,
        received_at=request.received_at,
        answered_at=request.decided_at,
        policy=request.policy,
        accounts_named=len(request.scope.get("pseudonyms", [])),
        links=tuple(link_outcomes(session=session, request=request)),
    )
    digests = {}
    for language in letters.LANGUAGES:
        body = letters.render(facts, language)
        digests[language] = letters.digest(body)
        session.add(
            LegalLetter(
                request_id=request.id,
                language=language,
                body=body,
                sha256=digests[language],
                rendered_at=request.decided_at,
            )
        )
    return digests


def letter(*, session: Session, request_id: uuid.UUID, language: str) -> LegalLetter:
    """Return the letter answering a request in ``language``, or raise NotFound."""
    get(session=session, request_id=request_id)
    if language not in letters.LANGUAGES:
        raise NotFound(
            f"letters are written in {' and '.join(letters.LANGUAGES)}", field="language"
        )
    found = session.execute(
        select(LegalLetter)
        .where(LegalLetter.request_id == request_id)
        .where(LegalLetter.language == language)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"request {request_id} has no letter (yet)", field="request_id")
    if found.body is None:
        raise NotFound(
            f"the letter's text was purged under the retention policy; it had the SHA-256 "
            f"{found.sha256}",
            field="language",
        )
    return found


def letters_of(*, session: Session, request_id: uuid.UUID) -> dict[str, LegalLetter]:
    """Return the letters answering a request, by language."""
    found = session.execute(
        select(LegalLetter).where(LegalLetter.request_id == request_id)
    ).scalars()
    return {letter.language: letter for letter in found}
