"""Build the FastAPI application: API v1, built-in platform pages, health, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import tanggap
from tanggap.actions import jobs
from tanggap.actions.router import router as actions_router
from tanggap.api import errors, health
from tanggap.api.middleware import BodyLimit, RequestId
from tanggap.appeals.router import router as appeals_router
from tanggap.banks.router import router as banks_router
from tanggap.banks.router import scans_router
from tanggap.cases import jobs as case_jobs
from tanggap.cases.router import router as cases_router
from tanggap.channels.router import router as channels_router
from tanggap.config import Settings, get_settings
from tanggap.console.session import CONSOLE, ConsoleLogin
from tanggap.console.views import router as console_router
from tanggap.detection.jobs import media_dispatcher, scan_dispatcher
from tanggap.detection.router import router as detection_router
from tanggap.flaggers.router import router as flaggers_router
from tanggap.metrics import RequestTimer
from tanggap.notify.router import router as notifications_router
from tanggap.portal.session import PORTAL, PortalLogin
from tanggap.portal.views import router as portal_router
from tanggap.posts.router import router as posts_router
from tanggap.reports.router import router as reports_router
from tanggap.runtime import Runtime, build_runtime
from tanggap.threads.router import router as threads_router
from tanggap.web import accounts
from tanggap.web.views import router as pages_router

STATIC = Path(__file__).parent.parent / "web" / "static"


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    run_dispatcher: bool = True,
) -> FastAPI:
    """Create the app; ``runtime`` lets tests and embedders bring their own engines."""
    runtime = runtime or build_runtime(settings or get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not run_dispatcher:
            yield
            return
        client = httpx.Client(timeout=runtime.settings.webhook_timeout_seconds)
        dispatchers = [
            jobs.action_dispatcher(runtime),
            jobs.webhook_dispatcher(runtime, client),
            case_jobs.triage_dispatcher(runtime),
            case_jobs.deadline_dispatcher(runtime),
            scan_dispatcher(runtime),
            media_dispatcher(runtime),
        ]
        for dispatcher in dispatchers:
            dispatcher.start()
        try:
            yield
        finally:
            for dispatcher in dispatchers:
                dispatcher.stop()
            client.close()

    app = FastAPI(
        title="Tanggap",
        version=tanggap.__version__,
        summary="Reports, deadlines, review and takedowns for public channels.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    errors.install(app)
    accounts.install(app)
    app.include_router(health.router)
    app.include_router(channels_router)
    app.include_router(posts_router)
    app.include_router(appeals_router)
    app.include_router(detection_router)
    app.include_router(banks_router)
    app.include_router(scans_router)
    app.include_router(reports_router)
    app.include_router(cases_router)
    app.include_router(actions_router)
    app.include_router(threads_router)
    app.include_router(flaggers_router)
    app.include_router(notifications_router)
    app.include_router(accounts.account_router(PORTAL, PortalLogin))
    app.include_router(portal_router)
    app.include_router(accounts.account_router(CONSOLE, ConsoleLogin))
    app.include_router(console_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_middleware(
        BodyLimit,
        max_bytes=runtime.settings.max_body_bytes,
        larger={
            "/v1/reports/bulk": runtime.settings.max_bulk_body_bytes,
            "/portal/submit": runtime.settings.max_bulk_body_bytes,
        },
    )
    app.add_middleware(RequestTimer)
    app.add_middleware(RequestId)
    return app
