"""HTTP: public posts from the platform."""

from __future__ import annotations

from fastapi import APIRouter, Response

from tanggap.errors import Unavailable
from tanggap.http.deps import Platform, RuntimeDep, SessionDep
from tanggap.http.openapi import answers
from tanggap.posts import batch, service
from tanggap.posts.schemas import PostIn, PostOut, PostsIn, PostsOut
from tanggap.posts.service import IngestResult
from tanggap.runtime import Runtime

router = APIRouter(prefix="/v1/posts", tags=["platform"])


def _room_for(runtime: Runtime, posts: list[PostIn]) -> None:
    """Refuse (503, nothing written) when the images to hash would overflow the queue."""
    if not runtime.has_room_for(posts):
        raise Unavailable("too many images wait to be hashed: send this again in a minute")


def _post_out(result: IngestResult) -> PostOut:
    return PostOut(
        channel=result.channel,
        message_id=result.message_id,
        url=service.post_url(result.channel, result.message_id),
        posted_at=result.posted_at,
        views=result.views,
        language=result.language,
        media_count=result.media_count,
        created=result.created,
        changed=result.changed,
    )


@router.post(
    "",
    response_model=PostOut,
    status_code=201,
    responses={
        200: {"model": PostOut, "description": "The post was there already"},
        **answers(Unavailable),
    },
)
def ingest_post(
    data: PostIn, session: SessionDep, caller: Platform, runtime: RuntimeDep, response: Response
) -> PostOut:
    """Ingest one public post (idempotent on channel and message id; a resend updates it).
    Images sent as ``data`` are PDQ-hashed in the background; with too many bytes waiting the
    answer is 503 and the platform sends the post again later."""
    _room_for(runtime, [data])
    result = service.ingest(
        session=session,
        data=data,
        keyring=runtime.settings.keyring,
        actor=caller.audit_actor,
        inspector=runtime.pipeline,
        owner_id=caller.id,
    )
    session.commit()
    runtime.after_ingest([result])
    response.status_code = 201 if result.created else 200
    return _post_out(result)


@router.post("/batch", response_model=PostsOut, responses=answers(Unavailable))
def ingest_posts(
    data: PostsIn, session: SessionDep, caller: Platform, runtime: RuntimeDep
) -> PostsOut:
    """Ingest up to 500 posts in one transaction (the way to keep up with a busy platform: one
    commit for all). All or none: a post that cannot be stored refuses the batch, naming
    ``posts.N``. Each post is idempotent on channel and message id, as in ``POST /v1/posts``."""
    _room_for(runtime, data.posts)
    outcomes = batch.ingest_batch(
        session=session,
        posts=data.posts,
        keyring=runtime.settings.keyring,
        actor=caller.audit_actor,
        inspector=runtime.pipeline,
        owner_id=caller.id,
    )
    results = [outcome for outcome in outcomes if isinstance(outcome, IngestResult)]
    session.commit()
    runtime.after_ingest(results)
    return PostsOut(
        created=sum(r.created for r in results),
        updated=sum(bool(not r.created and r.changed) for r in results),
        unchanged=sum(bool(not r.created and not r.changed) for r in results),
        posts=[_post_out(r) for r in results],
    )
