"""The running server in its own process, and the command line beside it."""

from __future__ import annotations

import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.commands import run

TANGGAP = str(Path(sys.executable).parent / "tanggap")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``tanggap ARGS`` beside the server (in this process: see ``tests.commands``)."""
    return run(environment, *args)


@dataclass
class Served:
    """A serving process's base URL and every line it has written (stdout and stderr)."""

    url: str
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)


@contextmanager
def serving(environment: dict[str, str]) -> Iterator[Served]:
    """Run ``tanggap serve``; yield once it listens; stop it and read its last lines."""
    port = free_port()
    process = subprocess.Popen(
        [TANGGAP, "serve", "--port", str(port)],
        env=environment,
        stderr=subprocess.STDOUT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    out = process.stdout
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in out:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    served = Served(f"http://127.0.0.1:{port}")
    while True:
        line = lines.get(timeout=60)
        assert line is not None, served.output()
        served.lines.append(line)
        if "Uvicorn running on" in line:  # after the app's startup, once the socket is bound
            break
    try:
        yield served
    finally:
        process.terminate()
        process.wait(timeout=30)
        reader.join(timeout=30)
        while (line := lines.get_nowait() if not lines.empty() else None) is not None:
            served.lines.append(line)
