"""Helpers shared by the benchmarks: pinning to one core, fresh databases to fill, a server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url, text

from tanggap.db.session import normalise_url

TANGGAP = str(Path(sys.executable).parent / "tanggap")


@contextmanager
def one_core() -> Iterator[int]:
    """Pin this process to one core while the block runs; yield the core's number."""
    everything = os.sched_getaffinity(0)
    core = max(everything)
    os.sched_setaffinity(0, {core})
    try:
        yield core
    finally:
        os.sched_setaffinity(0, everything)


@contextmanager
def databases(
    names: Sequence[str], root: Path, *, postgres: bool = False, server_url: str | None = None
) -> Iterator[list[str]]:
    """Yield the URLs of fresh, empty databases, one per name: SQLite files under ``root`` by
    default; with ``postgres`` or ``server_url``, databases created (and dropped afterwards) on a
    pgserver started under ``root`` or on the server that ``server_url`` names."""
    if not (postgres or server_url):
        yield [f"sqlite:///{root}/{name}.db" for name in names]
        return
    server = None
    url = server_url
    if not url:
        import pgserver

        server = pgserver.get_server(root / "pg", cleanup_mode="stop")
        url = server.get_uri()
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    base = make_url(normalise_url(url))
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
                conn.execute(text(f"CREATE DATABASE {name}"))
        yield [base.set(database=n).render_as_string(hide_password=False) for n in names]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
        if server is not None:
            server.cleanup()


def serve(
    url: str, port: int, workers: int, secret: str, *, cpus: str | None = None, **env: str
) -> subprocess.Popen[bytes]:
    """Start ``tanggap serve`` in its own process on ``url`` (on the cores ``cpus`` names, as
    ``taskset -c`` reads them, when given) and return it once it is ready."""
    environment = {
        **os.environ,
        "TANGGAP_DATABASE_URL": url,
        "TANGGAP_ENV": "test",
        "TANGGAP_SECRET_KEY": secret,
        "TANGGAP_LOG_LEVEL": "WARNING",
        **env,
    }
    command = [TANGGAP, "serve", "--port", str(port), "--workers", str(workers)]
    if cpus is not None:
        command = ["taskset", "-c", cpus, *command]
    process = subprocess.Popen(command, env=environment)
    return ready(process, f"http://127.0.0.1:{port}/readyz")


def ready(process: subprocess.Popen[bytes], url: str) -> subprocess.Popen[bytes]:
    """Return ``process`` once a GET of ``url`` answers 200; kill it if that takes a minute."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the server did not start: {url}")


def cpu_seconds(pids: Sequence[int], *, descendants: bool = True) -> float:
    """Return the CPU time (user and system) that ``pids`` (and, unless told otherwise, all their
    descendants) have used."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    wanted = set(pids)
    grown = descendants
    while grown:
        more = {pid for pid, parent in parents.items() if parent in wanted} - wanted
        wanted |= more
        grown = bool(more)
    return sum(used.get(pid, 0.0) for pid in wanted)


def start_worker(url: str, secret: str, **env: str) -> subprocess.Popen[bytes]:
    """Start ``tanggap worker`` (every background job) in its own process on ``url``."""
    environment = {
        **os.environ,
        "TANGGAP_DATABASE_URL": url,
        "TANGGAP_ENV": "test",
        "TANGGAP_SECRET_KEY": secret,
        "TANGGAP_LOG_LEVEL": "WARNING",
        **env,
    }
    return subprocess.Popen([TANGGAP, "worker"], env=environment)
