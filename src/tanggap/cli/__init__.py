"""The ``tanggap`` command: serve, worker, ingest, telegram, migrate, demo, organisations,
tokens, audit, outbox, simulate, retention."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from tanggap import logs
from tanggap.cli import access, detection, ingest, operations, simulate, telegram, worker
from tanggap.cli.common import checkpoint_key, fail, load_settings, runtime_for, transaction

app = typer.Typer(help="Tanggap: reports, deadlines, review and takedowns for public channels.")
db_app = typer.Typer(help="Database schema.")
demo_app = typer.Typer(help="Demo data.")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(access.token_app, name="token")
app.add_typer(access.flagger_app, name="flagger")
app.add_typer(access.reviewer_app, name="reviewer")
app.add_typer(access.legal_app, name="legal")
app.add_typer(operations.audit_app, name="audit")
app.add_typer(operations.actions_app, name="actions")
app.add_typer(operations.retention_app, name="retention")
app.add_typer(detection.bank_app, name="bank")
app.add_typer(detection.rules_app, name="rules")
app.add_typer(telegram.telegram_app, name="telegram")
app.command("hash")(detection.hash_files)
app.command("scan")(detection.scan)
app.command("worker")(worker.worker)
app.command("ingest")(ingest.ingest)
app.command("simulate")(simulate.simulate)


# What one server process bounds, and why (uvicorn 0.55's defaults in brackets):
# - idle keep-alive connections close after 5 s [5]: a connection between requests holds a file
#   descriptor; a reverse proxy's upstream keep-alive must be shorter, so it never reuses a
#   connection the server is closing;
# - at most --limit-concurrency connections or requests at once per worker [unbounded]: past it
#   uvicorn answers 503 at once instead of taking more memory and descriptors. Every open
#   connection counts, an idle or slow one too, so the limit turns a flood into 503s, not a crash;
# - a request's headers stop at 16 KiB [16 KiB] on the h11 parser (uvicorn picks httptools when it
#   is installed, which bounds only the URL): the reverse proxy bounds them in production;
# - a stop waits at most 20 s for requests in flight [forever], longer than the body timeout.
# Neither parser bounds how long headers take to arrive: uvicorn arms no timer on a connection
# until its first response is sent, so one that sends nothing or trickles its headers stays open,
# and the app sees a request only once its headers are in. The reverse proxy bounds header time
# (README, "Deployment shape"); the app bounds the body (TANGGAP_BODY_TIMEOUT_SECONDS).
KEEP_ALIVE_SECONDS = 5
MAX_HEADER_BYTES = 16 * 1024
GRACEFUL_SHUTDOWN_SECONDS = 20


def serve_options(*, host: str, port: int, workers: int, limit_concurrency: int) -> dict[str, Any]:
    """Return the uvicorn settings of ``tanggap serve``."""
    return {
        "host": host,
        "port": port,
        "workers": workers,
        "limit_concurrency": limit_concurrency,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
        "log_level": os.environ.get("TANGGAP_LOG_LEVEL", "info").lower(),
        "log_config": logs.UVICORN_LOG_CONFIG,
    }


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="Port (default 8000 or $PORT).")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    limit_concurrency: Annotated[
        int,
        typer.Option(min=1, help="Connections or requests at once per worker; past it, 503."),
    ] = 1000,
) -> None:
    """Serve the API and the built-in platform pages."""
    import uvicorn

    settings = load_settings()  # refuse bad settings before uvicorn starts
    if settings.jobs == "inline":
        checkpoint_key(settings)  # its sealer signs with it: a missing key stops the start here
    uvicorn.run(
        "tanggap.asgi:app",
        **serve_options(host=host, port=port, workers=workers, limit_concurrency=limit_concurrency),
    )


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the database to the newest schema (or to REVISION)."""
    from tanggap.db.migrate import upgrade

    settings = load_settings()
    from tanggap.db.session import make_engine

    make_engine(settings.database_url).dispose()  # creates the SQLite folder
    upgrade(settings.database_url, revision, secret_key=settings.secret_key)
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
            keyring=settings.keyring,
            policy=runtime.policy,
            inspector=runtime.pipeline,
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
    base = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
    typer.echo(
        f"flagger portal: {base}/portal/login  {result.portal_email} / {result.portal_password}",
        err=True,
    )
    typer.echo(
        f"review console: {base}/console/login  demo-reviewer@tanggap.invalid (or demo-lead@…) "
        f"/ {result.portal_password}",
        err=True,
    )
    typer.echo(
        f"legal register: {base}/console/login  demo-legal@tanggap.invalid "
        f"/ {result.portal_password}",
        err=True,
    )
