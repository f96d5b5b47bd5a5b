"""HTTP: the legal register of authorities' requests (legal officers and admins only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse

from tanggap.errors import Conflict, Forbidden, InvalidInput, Unavailable
from tanggap.http import idempotent
from tanggap.http.deps import Legal, RuntimeDep, SessionDep
from tanggap.http.openapi import KEY_SCHEMA, answers
from tanggap.legal import service
from tanggap.legal.intake import FormIntake, payload_of, read_form
from tanggap.legal.models import RequestKind, RequestState
from tanggap.legal.present import request_out
from tanggap.legal.schemas import (
    AssessmentIn,
    InstructionOut,
    LegalDecisionIn,
    LegalRequestOut,
    RequestFilter,
)
from tanggap.legal.signed import instruction_of

router = APIRouter(tags=["legal"])
COUNTRY_PATTERN = r"^\s*[A-Za-z]{2}\s*$"
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", json_schema_extra=KEY_SCHEMA)
]
FormText = Annotated[str, Form(max_length=1000)]
FormList = Annotated[list[str], Form()]


@router.post(
    "/v1/legal/requests",
    response_model=LegalRequestOut,
    status_code=201,
    responses=answers(InvalidInput),
)
def register_request(
    session: SessionDep,
    caller: Legal,
    runtime: RuntimeDep,
    kind: FormText = "",
    authority: FormText = "",
    country: FormText = "",
    legal_basis: FormText = "",
    reference: FormText = "",
    received_at: FormText = "",
    links: FormList = [],  # noqa: B006 (FastAPI copies a form's defaults)
    channels: FormList = [],  # noqa: B006
    pseudonyms: FormList = [],  # noqa: B006
    report_ids: FormList = [],  # noqa: B006
    documents: Annotated[list[UploadFile], File()] = [],  # noqa: B006
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Register a request from an authority or a court (multipart: its fields, the list fields
    repeated or one value a line, and its documents, PDF or images, kept as SHA-256 digests
    only). Retries with the same ``Idempotency-Key`` get the first answer."""
    form = FormIntake(
        fields={
            "kind": kind,
            "authority": authority,
            "country": country,
            "legal_basis": legal_basis,
            "reference": reference,
            "received_at": received_at,
        },
        lists={
            "links": links,
            "channels": channels,
            "pseudonyms": pseudonyms,
            "report_ids": report_ids,
        },
        files=[upload.file.read() for upload in documents],
    )
    data, digests = read_form(form)

    def work() -> tuple[int, dict[str, Any]]:
        request = service.register(session=session, caller=caller, data=data, documents=digests)
        return 201, request_out(session=session, request=request).model_dump(mode="json")

    status, body, fresh = idempotent.run(
        session=session,
        caller=caller,
        endpoint="POST /v1/legal/requests",
        key=idempotency_key,
        payload=payload_of(form, digests),
        secret_key=runtime.settings.secret_key,
        work=work,
    )
    return idempotent.response(status, body, fresh)


@router.get("/v1/legal/requests", response_model=list[LegalRequestOut])
def list_requests(
    session: SessionDep,
    caller: Legal,
    kind: RequestKind | None = None,
    country: Annotated[str | None, Query(pattern=COUNTRY_PATTERN)] = None,
    state: RequestState | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[LegalRequestOut]:
    """List the register, newest received first; ``since`` and ``until`` bound when each
    request was received."""
    where = RequestFilter(kind=kind, country=country, state=state, since=since, until=until)
    found = service.list_requests(session=session, where=where)
    return [request_out(session=session, request=request) for request in found]


@router.get("/v1/legal/requests/{request_id}", response_model=LegalRequestOut)
def show_request(request_id: uuid.UUID, session: SessionDep, caller: Legal) -> LegalRequestOut:
    """Show a request: its scope, documents' digests, finding, state and times."""
    request = service.get(session=session, request_id=request_id)
    return request_out(session=session, request=request)


@router.post(
    "/v1/legal/requests/{request_id}/assessment",
    response_model=LegalRequestOut,
    responses=answers(Conflict),
)
def assess_request(
    request_id: uuid.UUID,
    data: AssessmentIn,
    session: SessionDep,
    caller: Legal,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record the legal reviewer's finding: is it a court order, does it name a criminal
    suspect, and why."""

    def work() -> tuple[int, dict[str, Any]]:
        request = service.assess(session=session, caller=caller, request_id=request_id, data=data)
        return 200, request_out(session=session, request=request).model_dump(mode="json")

    status, body, fresh = idempotent.run(
        session=session,
        caller=caller,
        endpoint="POST /v1/legal/requests/{request_id}/assessment",
        key=idempotency_key,
        payload={"request_id": str(request_id), **data.model_dump(mode="json")},
        secret_key=runtime.settings.secret_key,
        work=work,
    )
    return idempotent.response(status, body, fresh)


@router.post(
    "/v1/legal/requests/{request_id}/decision",
    response_model=LegalRequestOut,
    responses=answers(Conflict, Forbidden, Unavailable),
)
def decide_request(
    request_id: uuid.UUID,
    data: LegalDecisionIn,
    session: SessionDep,
    caller: Legal,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Grant a data request (a second person, under ``court_order_suspect`` only: a signed
    instruction to the platform), refuse it, or answer a removal or preservation request (the
    letters)."""

    def work() -> tuple[int, dict[str, Any]]:
        request = service.decide(
            session=session,
            caller=caller,
            request_id=request_id,
            outcome=data.outcome,
            policy=runtime.policy,
            key=lambda: runtime.checkpoint_key,
        )
        return 200, request_out(session=session, request=request).model_dump(mode="json")

    status, body, fresh = idempotent.run(
        session=session,
        caller=caller,
        endpoint="POST /v1/legal/requests/{request_id}/decision",
        key=idempotency_key,
        payload={"request_id": str(request_id), **data.model_dump(mode="json")},
        secret_key=runtime.settings.secret_key,
        work=work,
    )
    return idempotent.response(status, body, fresh)


@router.get(
    "/v1/legal/requests/{request_id}/letters/{language}",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
def request_letter(
    request_id: uuid.UUID, language: str, session: SessionDep, caller: Legal
) -> PlainTextResponse:
    """The letter answering a request, in Bahasa Indonesia (``id``) or English (``en``);
    its SHA-256 is in the ``Digest-SHA256`` header."""
    found = service.letter(session=session, request_id=request_id, language=language)
    return PlainTextResponse(found.body or "", headers={"Digest-SHA256": found.sha256})


@router.get("/v1/legal/requests/{request_id}/instruction", response_model=InstructionOut)
def request_instruction(
    request_id: uuid.UUID, session: SessionDep, caller: Legal
) -> InstructionOut:
    """The signed instruction of a granted data request: verify ``signature`` over the UTF-8
    bytes of ``canonical`` with the key ``tanggap audit key`` prints (docs/legal.md)."""
    service.get(session=session, request_id=request_id)
    return instruction_of(session=session, request_id=request_id)
