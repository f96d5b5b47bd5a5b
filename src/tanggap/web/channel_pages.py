"""The built-in public channel pages, in the manner of ``t.me/s/<channel>``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from tanggap.builtin_pages import service as builtin
from tanggap.channels import service as channels
from tanggap.channels.models import Channel
from tanggap.http.deps import SessionDep
from tanggap.posts import service as posts
from tanggap.validation import HANDLE_RE, MessageId, normalise_country
from tanggap.web.templating import templates

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20


def _country(query: str | None, header: str | None) -> tuple[str | None, str | None]:
    raw = query if query is not None else header
    if raw is None or raw == "":
        return None, None
    try:
        return normalise_country(raw), None
    except ValueError as exc:
        source = "country" if query is not None else "X-Viewer-Country"
        return None, f"{source}: {exc}"


def _error(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "error.html", {"title": title, "message": message}, status_code=status
    )


def _open_channel(request: Request, session: Session, handle: str) -> Channel | HTMLResponse:
    """Return the channel, or the page that stands in for it (not found, banned)."""
    channel = (
        channels.get_by_handle(session=session, handle=handle.lower())
        if HANDLE_RE.match(handle)
        else None
    )
    if channel is None:
        return _error(request, 404, "Channel not found", f"There is no channel @{handle}.")
    ban = builtin.channel_ban(session=session, channel=channel)
    if ban is not None:
        status = 451 if ban.ground == "law" else 410
        return templates.TemplateResponse(
            request, "banned.html", {"channel": channel, "ban": ban}, status_code=status
        )
    return channel


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> HTMLResponse:
    """List the platform's public channels."""
    return templates.TemplateResponse(
        request, "home.html", {"channels": channels.list_channels(session=session)}
    )


@router.get("/c/{handle}", response_class=HTMLResponse)
def channel_page(
    request: Request,
    handle: str,
    session: SessionDep,
    country: Annotated[str | None, Query()] = None,
    before: Annotated[MessageId | None, Query()] = None,
    x_viewer_country: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    """Show a channel's posts, newest first, as a viewer from ``country`` sees them."""
    viewer, problem = _country(country, x_viewer_country)
    if problem:
        return _error(request, 400, "Bad request", problem)
    channel = _open_channel(request, session, handle)
    if isinstance(channel, HTMLResponse):
        return channel
    page = posts.channel_posts(
        session=session, channel_id=channel.id, before=before, limit=PAGE_SIZE
    )
    restrictions = builtin.restrictions_of(session=session, post_ids=[p.id for p in page])
    items = [(p, builtin.visibility(restrictions[p.id], viewer)) for p in page]
    older = page[-1].message_id if len(page) == PAGE_SIZE else None
    return templates.TemplateResponse(
        request,
        "channel.html",
        {"channel": channel, "items": items, "viewer": viewer, "older": older},
    )


@router.get("/c/{handle}/{message_id}", response_class=HTMLResponse)
def post_page(
    request: Request,
    handle: str,
    message_id: str,
    session: SessionDep,
    country: Annotated[str | None, Query()] = None,
    x_viewer_country: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    """Show one post, or the tombstone that replaced it."""
    viewer, problem = _country(country, x_viewer_country)
    if problem:
        return _error(request, 400, "Bad request", problem)
    channel = _open_channel(request, session, handle)
    if isinstance(channel, HTMLResponse):
        return channel
    post = (
        posts.get(session=session, handle=channel.handle, message_id=int(message_id))
        if message_id.isascii() and message_id.isdigit() and len(message_id) < 17
        else None
    )
    if post is None:
        return _error(
            request, 404, "Post not found", f"@{channel.handle} has no post {message_id}."
        )
    seen = builtin.visibility(
        builtin.restrictions_of(session=session, post_ids=[post.id])[post.id], viewer
    )
    return templates.TemplateResponse(
        request,
        "post.html",
        {"channel": channel, "post": post, "seen": seen, "viewer": viewer},
        status_code=seen.status_code,
    )
