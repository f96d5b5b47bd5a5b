"""The ``tanggap`` command: serve, migrate, load the demo, issue tokens, verify the audit chain."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tanggap import logs
from tanggap.config import Settings
from tanggap.errors import TanggapError
from tanggap.policy.service import PolicyError
from tanggap.runtime import Runtime, build_runtime

app = typer.Typer(help="Tanggap: reports, deadlines, review and takedowns for public channels.")
db_app = typer.Typer(help="Database schema.")
demo_app = typer.Typer(help="Demo data.")
token_app = typer.Typer(help="API tokens.")
audit_app = typer.Typer(help="The audit trail.")
flagger_app = typer.Typer(help="Trusted flagger organisations.")
actions_app = typer.Typer(help="The action outbox.")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(flagger_app, name="flagger")
app.add_typer(actions_app, name="actions")

CLI_ACTOR = "cli"


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` to stderr and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def load_settings() -> Settings:
    """Read settings from the environment, or exit with the reason they are refused."""
    try:
        settings = Settings()
    except ValidationError as exc:
        fail("; ".join(err["msg"].removeprefix("Value error, ") for err in exc.errors()))
    logs.configure(settings.log_level)
    return settings


@contextmanager
def runtime_for(settings: Settings | None = None) -> Iterator[Runtime]:
    """Build the runtime for a command and release it afterwards."""
    try:
        runtime = build_runtime(settings or load_settings())
    except PolicyError as exc:
        fail(str(exc))
    try:
        yield runtime
    finally:
        runtime.close()


@contextmanager
def transaction(runtime: Runtime) -> Iterator[Session]:
    """One transaction for a command; domain errors become a message and exit code 2."""
    try:
        with runtime.factory() as session, session.begin():
            yield session
    except TanggapError as exc:
        fail(f"{exc.field}: {exc.message}" if exc.field else exc.message, code=2)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="Port (default 8000 or $PORT).")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the API and the built-in platform pages."""
    import uvicorn

    load_settings()  # refuse bad settings before uvicorn starts
    uvicorn.run(
        "tanggap.api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level=os.environ.get("TANGGAP_LOG_LEVEL", "info").lower(),
    )


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the database to the newest schema (or to REVISION)."""
    from tanggap.db.migrate import upgrade

    settings = load_settings()
    from tanggap.db.session import make_engine

    make_engine(settings.database_url).dispose()  # creates the SQLite folder
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {_safe_url(settings.database_url)} is at {revision}", err=True)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@demo_app.command("load")
def demo_load() -> None:
    """Load the demo channels, posts, reports and principals once; print the demo tokens."""
    from tanggap.demo import service as demo

    settings = load_settings()
    if settings.env != "development":
        fail("the demo loads only when TANGGAP_ENV=development (its tokens derive from the key)")
    with runtime_for(settings) as runtime, transaction(runtime) as session:
        result = demo.load(
            session=session,
            secret_key=settings.secret_key,
            policy=runtime.policy,
            inspector=runtime.inspector,
            notifier=runtime.notifier,
        )
    if result.loaded:
        typer.echo(
            f"demo loaded: {result.channels} channels, {result.posts} posts, "
            f"{result.reports} reports",
            err=True,
        )
    else:
        typer.echo("demo already loaded", err=True)
    for name, token in result.tokens.items():
        typer.echo(f"TANGGAP_DEMO_{name.upper()}_TOKEN={token}")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="platform, flagger, reviewer or admin.")],
    org: Annotated[str | None, typer.Option(help="Flagger organisation (flagger tokens).")] = None,
    name: Annotated[str | None, typer.Option(help="Who the token is for.")] = None,
) -> None:
    """Create a principal with ROLE and print its token (only the token) on stdout."""
    from tanggap.auth import service as auth
    from tanggap.auth.schemas import ROLES
    from tanggap.flaggers import service as flaggers

    if role not in ROLES:
        fail(f"--role: {role!r} is not one of {', '.join(ROLES)}", code=2)
    if role == "flagger" and not org:
        fail("--org: a flagger token needs the organisation's name", code=2)
    if role != "flagger" and org:
        fail("--org: only flagger tokens belong to an organisation", code=2)
    with runtime_for() as runtime, transaction(runtime) as session:
        org_id = None
        if org:
            found = flaggers.get_by_name(session=session, name=org)
            if found is None:
                fail(f"--org: no flagger organisation named {org!r}; create it first", code=2)
            org_id = found.id
        principal = auth.create_principal(
            session=session,
            role=role,
            name=name or (f"{org} API" if org else f"{role} token"),
            org_id=org_id,
            actor=CLI_ACTOR,
        )
        token = auth.issue_token(session=session, principal=principal, actor=CLI_ACTOR)
    typer.echo(token)


@flagger_app.command("create")
def flagger_create(
    name: Annotated[str, typer.Option(help="The organisation's name.")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 country code.")],
    trust: Annotated[str, typer.Option(help="high or normal.")] = "normal",
    contact_email: Annotated[str | None, typer.Option(help="Contact address.")] = None,
) -> None:
    """Create a trusted flagger organisation and print its id."""
    from tanggap.flaggers import service as flaggers
    from tanggap.flaggers.schemas import FlaggerOrgIn

    try:
        data = FlaggerOrgIn.model_validate(
            {"name": name, "country": country, "trust": trust, "contact_email": contact_email}
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        fail(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']}", code=2)
    with runtime_for() as runtime, transaction(runtime) as session:
        try:
            org = flaggers.create(session=session, data=data, actor=CLI_ACTOR)
        except flaggers.FlaggerOrgExists as exc:
            fail(f"--name: {exc}", code=2)
        org_id = org.id
    typer.echo(str(org_id))


@actions_app.command("list")
def actions_list(
    state: Annotated[str | None, typer.Option(help="pending, delivered or failed.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """List actions, newest first: id, kind, state, attempts, last error."""
    from tanggap.actions import service as actions

    if state not in (None, "pending", "delivered", "failed"):
        fail(f"--state: {state!r} is not pending, delivered or failed", code=2)
    with runtime_for() as runtime, runtime.factory() as session:
        for action in actions.list_actions(session=session, state=state, limit=limit):
            error = (action.last_error or "").replace("\n", " ")[:80]
            typer.echo(
                f"{action.id}  {action.kind:<18} {action.state:<9} {action.attempts:>3}  {error}"
            )


@actions_app.command("retry")
def actions_retry(
    action_ids: Annotated[list[str], typer.Argument(help="Failed action ids.")],
) -> None:
    """Put failed actions back in the outbox; the running server's dispatcher delivers them."""
    from tanggap.actions import service as actions

    try:
        ids = [uuid.UUID(value) for value in action_ids]
    except ValueError:
        fail("ACTION_IDS: every id must be a UUID", code=2)
    with runtime_for() as runtime, transaction(runtime) as session:
        for action_id in ids:
            actions.requeue(session=session, action_id=action_id, actor=CLI_ACTOR)
    typer.echo(f"requeued {len(ids)} action(s)", err=True)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the whole hash chain; exit 1 naming the first bad event."""
    from tanggap.audit import service as audit

    with runtime_for() as runtime, runtime.factory() as session:
        result = audit.verify(session=session)
    if result.problem is None:
        typer.echo(f"audit chain intact: {result.checked} events")
        return
    typer.echo(
        f"audit chain BROKEN at event {result.problem.seq}: {result.problem.reason} "
        f"({result.checked} events checked before it)",
        err=True,
    )
    sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    app()
