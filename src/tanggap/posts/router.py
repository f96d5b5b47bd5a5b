"""HTTP: public posts from the platform."""

from __future__ import annotations

from fastapi import APIRouter, Response

from tanggap.api.deps import Platform, RuntimeDep, SessionDep
from tanggap.cases.router import deliver_actions
from tanggap.detection.pipeline import QUEUED_ACTIONS
from tanggap.errors import Unavailable
from tanggap.posts import service
from tanggap.posts.schemas import PostIn, PostOut

router = APIRouter(prefix="/v1/posts", tags=["platform"])


@router.post("", response_model=PostOut, status_code=201)
def ingest_post(
    data: PostIn, session: SessionDep, caller: Platform, runtime: RuntimeDep, response: Response
) -> PostOut:
    """Ingest one public post (idempotent on channel and message id; a resend updates it).
    Images sent as ``data`` are PDQ-hashed in the background; with too many bytes waiting the
    answer is 503 and the platform sends the post again later."""
    incoming = sum(len(m.data or "") * 3 // 4 for m in data.media)
    if incoming and not runtime.media.has_room(incoming):
        raise Unavailable("too many images wait to be hashed: send this post again in a minute")
    result = service.ingest(
        session=session,
        data=data,
        secret_key=runtime.settings.secret_key,
        actor=caller.audit_actor,
        inspector=runtime.inspector,
    )
    session.commit()
    runtime.media.submit(result.to_hash)
    # A hash bank's automatic action is committed with the post: deliver it now (the outbox
    # retries it otherwise).
    queued = session.info.pop(QUEUED_ACTIONS, [])
    if queued:
        deliver_actions(runtime, queued, reason=f"ingest {data.channel}/{data.message_id}")
    response.status_code = 201 if result.created else 200
    post = result.post
    return PostOut(
        channel=result.channel.handle,
        message_id=post.message_id,
        url=service.post_url(result.channel.handle, post.message_id),
        posted_at=post.posted_at,
        views=post.views,
        language=post.language,
        media_count=len(post.media),
        created=result.created,
        changed=result.changed,
    )
