"""Fixtures: a real database per test (SQLite file, PostgreSQL via pgserver), the app, servers."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text

from tanggap.config import Settings
from tanggap.db.migrate import upgrade
from tanggap.db.session import make_engine
from tanggap.runtime import Runtime, build_runtime
from tanggap.server import create_app
from tanggap.tables import Base
from tests.factories import Tokens, make_tokens
from tests.logging_state import kept_logging
from tests.telegram_standin import BotApiStandin
from tests.telegram_standin import serve as serve_standin

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
DATABASES = [
    d for d in os.environ.get("TANGGAP_TEST_DATABASES", "sqlite,postgresql").split(",") if d
]
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
# The browser tests drive pages whose database work the integration tests already check on both
# databases; in Chromium they run on the embedded default (SQLite) unless this names more.
E2E_DATABASES = os.environ.get("TANGGAP_TEST_E2E_DATABASES", "sqlite").split(",")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the browser tests to the databases TANGGAP_TEST_E2E_DATABASES names."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        database = callspec.params.get("database_backend") if callspec is not None else None
        in_browser = item.nodeid.startswith("tests/e2e/")
        (dropped if in_browser and database and database not in E2E_DATABASES else kept).append(
            item
        )
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _start_pgserver(root: Path) -> tuple[str, object]:
    import pgserver

    server = pgserver.get_server(root, cleanup_mode="stop")
    server.psql("CREATE DATABASE tanggap_test;")
    uri = server.get_uri().replace("/postgres?", "/tanggap_test?")
    return uri, server


@pytest.fixture(scope="session", params=DATABASES)
def database_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """A migrated database of one kind: ('sqlite', template file) or ('postgresql', url)."""
    if request.param == "sqlite":
        template = tmp_path_factory.mktemp("sqlite") / "template.db"
        upgrade(f"sqlite:///{template}")
        yield "sqlite", str(template)
        return
    url = os.environ.get("TANGGAP_TEST_DATABASE_URL")
    server = None
    if url:
        url = _own_database(url)
    else:
        url, server = _start_pgserver(tmp_path_factory.mktemp("pg"))
    upgrade(url)
    yield "postgresql", url
    if server is not None:
        server.cleanup()  # type: ignore[attr-defined]


def _own_database(url: str) -> str:
    """With parallel test workers, each gets its own database beside the one the URL names."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    given = make_url(url)
    name = f"{given.database}_{worker}"
    engine = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return given.set(database=name).render_as_string(hide_password=False)


def _wipe_postgres(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(
            text("INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, 0, :h)"),
            {"h": "0" * 64},
        )
    engine.dispose()


@pytest.fixture
def database_url(database_backend: tuple[str, str], tmp_path: Path) -> str:
    """A freshly migrated, empty database for one test."""
    kind, where = database_backend
    if kind == "sqlite":
        path = tmp_path / "tanggap.db"
        shutil.copyfile(where, path)
        return f"sqlite:///{path}"
    _wipe_postgres(where)
    return where


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for a test: its own database, a test secret key."""
    # A test database need not survive a power loss: its commits skip the fsync that the
    # product's default (FULL, checked in test_hardening) pays for.
    return Settings(
        env="test", database_url=database_url, secret_key=TEST_SECRET, sqlite_synchronous="NORMAL"
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """The runtime over the test's database, with the built-in pages adapter."""
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    """The app without its background dispatcher (tests deliver explicitly)."""
    return create_app(runtime=runtime, run_dispatcher=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An in-process HTTP client; server errors surface as 500s, as a user would see them."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def listening_socket() -> socket.socket:
    """Bind and listen on a free loopback port; clients may connect before the server runs."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    return sock


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve the app over real HTTP on 127.0.0.1 from a thread; yields its base URL."""
    sock = listening_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=30)
    sock.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The folder where tests leave screenshots for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def tokens(runtime: Runtime) -> Tokens:
    """One token of every kind of caller."""
    return make_tokens(runtime)


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``nats-server -js`` on a free loopback port, one per test process."""
    from tests.nats_server import start_nats

    server = start_nats(tmp_path_factory.mktemp("nats"))
    yield server.url
    server.stop()


@pytest.fixture
def telegram_standin() -> Iterator[BotApiStandin]:
    """A stand-in of Telegram's Bot API on a free loopback port (tests/telegram_standin.py)."""
    standin = BotApiStandin()
    server = serve_standin(standin)
    yield standin
    standin.close()
    server.shutdown()
    server.server_close()


@pytest.fixture
def restored_logs() -> Iterator[None]:
    """Logging as a Tanggap process has it during the test (``logs.configure`` in the test),
    the tests' own afterwards."""
    with kept_logging():
        yield
