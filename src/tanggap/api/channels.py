"""HTTP: channel metadata from the platform."""

from __future__ import annotations

from fastapi import APIRouter, Response

from tanggap.channels import service
from tanggap.channels.schemas import ChannelIn, ChannelOut
from tanggap.http.deps import Platform, SessionDep

router = APIRouter(prefix="/v1/channels", tags=["platform"])


@router.post(
    "",
    response_model=ChannelOut,
    status_code=201,
    responses={200: {"model": ChannelOut, "description": "The channel was there already"}},
)
def upsert_channel(
    data: ChannelIn, session: SessionDep, caller: Platform, response: Response
) -> ChannelOut:
    """Create a channel or update its metadata (idempotent on the handle)."""
    channel, created = service.upsert(session=session, data=data, actor=caller.audit_actor)
    session.commit()
    response.status_code = 201 if created else 200
    return ChannelOut(
        handle=channel.handle,
        title=channel.title,
        country=channel.country,
        subscribers=channel.subscribers,
        description=channel.description,
        url=service.channel_url(channel.handle),
        created=created,
    )
