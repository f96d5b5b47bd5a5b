"""The one ASGI application: the JSON API, the flagger portal, the review console, the built-in
pages, health; and the background jobs its role runs (``TANGGAP_JOBS``: all of them inline,
only image hashing when ``tanggap worker`` processes run the rest)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import tanggap
from tanggap import jobs
from tanggap.api import (
    actions,
    appeals,
    audit,
    banks,
    cases,
    channels,
    detection,
    erasures,
    eu_statements,
    flaggers,
    health,
    legal,
    notifications,
    posts,
    reports,
    threads,
    transparency,
)
from tanggap.config import Settings, get_settings
from tanggap.console import CONSOLE, ConsoleAccount
from tanggap.console import routers as console_routers
from tanggap.http import errors, openapi
from tanggap.http.middleware import BodyLimit, BodyTimeout, RequestId, RequestTimer
from tanggap.portal.session import PORTAL, PortalLogin
from tanggap.portal.telegram import router as portal_telegram_router
from tanggap.portal.views import router as portal_router
from tanggap.runtime import Runtime, build_runtime
from tanggap.web import accounts, channel_pages, transparency_page

STATIC = Path(__file__).parent / "web" / "static"
API_ROUTERS = (
    health.router,
    channels.router,
    posts.router,
    appeals.router,
    detection.router,
    banks.router,
    banks.scans_router,
    reports.router,
    cases.router,
    actions.router,
    threads.router,
    flaggers.router,
    notifications.router,
    eu_statements.router,
    audit.router,
    erasures.router,
    transparency.router,
    legal.router,
)


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
        running = jobs.RunningJobs(
            jobs.serving_jobs(runtime, client),
            runtime.settings.database_url,
            listen=runtime.settings.jobs == "inline",
        )
        running.start()
        try:
            yield
        finally:
            running.stop()
            client.close()

    app = FastAPI(
        title="Tanggap",
        version=tanggap.__version__,
        summary="Reports, deadlines, review and takedowns for public channels.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    errors.install(app)
    openapi.install(
        app, API_ROUTERS, categories=[category.id for category in runtime.policy.categories]
    )
    accounts.install(app)
    for router in API_ROUTERS:
        app.include_router(router)
    app.include_router(accounts.account_router(PORTAL, PortalLogin))
    app.include_router(portal_router)
    app.include_router(portal_telegram_router)
    app.include_router(accounts.account_router(CONSOLE, ConsoleAccount))
    for router in console_routers:
        app.include_router(router)
    app.include_router(channel_pages.router)
    app.include_router(transparency_page.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_middleware(
        BodyLimit,
        max_bytes=runtime.settings.max_body_bytes,
        larger={
            "/v1/reports/bulk": runtime.settings.max_bulk_body_bytes,
            "/portal/submit": runtime.settings.max_bulk_body_bytes,
            "/v1/legal/requests": runtime.settings.max_bulk_body_bytes,
            "/console/legal/requests": runtime.settings.max_bulk_body_bytes,
        },
    )
    app.add_middleware(BodyTimeout, seconds=runtime.settings.body_timeout_seconds)
    app.add_middleware(RequestTimer)
    app.add_middleware(RequestId)
    return app
