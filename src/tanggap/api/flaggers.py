"""HTTP: organisations for admins; an organisation's own figures for its members."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tanggap.auth import service as auth
from tanggap.auth.schemas import Caller
from tanggap.errors import Conflict, InvalidInput, NotFound
from tanggap.flaggers import service
from tanggap.flaggers.models import FlaggerOrg
from tanggap.flaggers.schemas import FlaggerOrgIn, FlaggerOrgOut, MemberIn, MemberOut, TokenOut
from tanggap.http.deps import SessionDep, require
from tanggap.http.openapi import answers
from tanggap.reports import stats
from tanggap.validation import bounded_time

router = APIRouter(prefix="/v1/flaggers", tags=["flaggers"])
Admin = Annotated[Caller, Depends(require("admin"))]
Flagger = Annotated[Caller, Depends(require("flagger"))]


def org_out(org: FlaggerOrg, *, with_secret: bool = False) -> FlaggerOrgOut:
    """Shape an organisation for an admin."""
    return FlaggerOrgOut(
        org_id=org.id,
        name=org.name,
        country=org.country,
        trust=org.trust,
        language=org.language,
        contact_email=org.contact_email,
        webhook_url=org.webhook_url,
        created_at=org.created_at,
        webhook_secret=org.webhook_secret if with_secret else None,
    )


@router.post("", response_model=FlaggerOrgOut, status_code=201, responses=answers(Conflict))
def create_org(data: FlaggerOrgIn, session: SessionDep, caller: Admin) -> FlaggerOrgOut:
    """Create an organisation; its webhook secret is shown this once."""
    org = service.create(session=session, data=data, actor=caller.audit_actor)
    session.commit()
    return org_out(org, with_secret=True)


@router.get("", response_model=list[FlaggerOrgOut])
def list_orgs(session: SessionDep, caller: Admin) -> list[FlaggerOrgOut]:
    """List every organisation."""
    return [org_out(org) for org in service.list_orgs(session=session)]


@router.post(
    "/{org_id}/members", response_model=MemberOut, status_code=201, responses=answers(Conflict)
)
def add_member(org_id: uuid.UUID, data: MemberIn, session: SessionDep, caller: Admin) -> MemberOut:
    """Add a portal member; the one-time password is shown this once."""
    org = service.get(session=session, org_id=org_id)
    member = service.add_member(session=session, org=org, data=data, actor=caller.audit_actor)
    session.commit()
    return MemberOut(
        member_id=member.principal.id,
        email=member.principal.email or data.email,
        one_time_password=member.one_time_password,
    )


@router.post("/{org_id}/tokens", response_model=TokenOut, status_code=201)
def create_token(org_id: uuid.UUID, session: SessionDep, caller: Admin) -> TokenOut:
    """Issue an API token for the organisation; shown this once."""
    org = service.get(session=session, org_id=org_id)
    issued = service.issue_org_token(session=session, org=org, actor=caller.audit_actor)
    session.commit()
    return TokenOut(token_id=issued.id, token=issued.token)


@router.delete("/{org_id}/tokens/{token_id}", status_code=204)
def revoke_token(
    org_id: uuid.UUID, token_id: uuid.UUID, session: SessionDep, caller: Admin
) -> None:
    """Revoke one of the organisation's tokens at once."""
    org = service.get(session=session, org_id=org_id)
    if token_id not in {t.id for t in service.org_tokens(session=session, org=org)}:
        raise NotFound(f"{org.name} has no token {token_id}", field="token_id")
    if not auth.revoke_token(session=session, token_id=token_id, actor=caller.audit_actor):
        raise InvalidInput(f"token {token_id} is already revoked", field="token_id")
    session.commit()


@router.get("/me/stats", response_model=stats.FlaggerStats)
def my_stats(
    session: SessionDep,
    caller: Flagger,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
) -> stats.FlaggerStats:
    """Your organisation's counts, median and p95 time to action, and share within deadline."""
    start = bounded_time(since, "since") if since is not None else None
    end = bounded_time(until, "until") if until is not None else None
    assert caller.org_id is not None
    return stats.for_org(session=session, org_id=caller.org_id, since=start, until=end)
