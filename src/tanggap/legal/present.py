"""How a request reads in the API and the console."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.legal.links import link_outcomes
from tanggap.legal.models import (
    LegalDocument,
    LegalInstruction,
    LegalLetter,
    LegalRequest,
    RequestKind,
)
from tanggap.legal.schemas import DocumentOut, LegalRequestOut


def request_out(*, session: Session, request: LegalRequest) -> LegalRequestOut:
    """Shape a request with its documents, letters, instruction and, for a removal request,
    what became of each report."""
    documents = session.execute(
        select(LegalDocument)
        .where(LegalDocument.request_id == request.id)
        .order_by(LegalDocument.position)
    ).scalars()
    languages = session.execute(
        select(LegalLetter.language)
        .where(LegalLetter.request_id == request.id)
        .order_by(LegalLetter.language)
    ).scalars()
    links = (
        link_outcomes(session=session, request=request)
        if request.kind == RequestKind.CONTENT_REMOVAL
        else []
    )
    return LegalRequestOut(
        request_id=request.id,
        kind=request.kind,
        authority=request.authority,
        country=request.country,
        legal_basis=request.legal_basis,
        reference=request.reference,
        received_at=request.received_at,
        scope={name: list(values) for name, values in request.scope.items()},
        state=request.state,
        registered_at=request.registered_at,
        assessed_at=request.assessed_at,
        court_order=request.court_order,
        names_suspect=request.names_suspect,
        finding=request.finding,
        decided_at=request.decided_at,
        policy=request.policy,
        documents=[
            DocumentOut(sha256=d.sha256, size=d.size, media_type=d.media_type) for d in documents
        ],
        links=links,
        letters=list(languages),
        instruction=session.get(LegalInstruction, request.id) is not None,
    )
