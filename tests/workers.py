"""``tanggap worker`` as a real process: start it, read its structured log, stop it."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import TEST_SECRET

TANGGAP = str(Path(sys.executable).parent / "tanggap")


@dataclass
class Worker:
    """A running ``tanggap worker`` and the log lines it has written so far."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)
    reader: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for(self, event: str, timeout: float = 30.0) -> dict[str, Any]:
        """Return the first log event named ``event``; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") == event:
                return dict(record)
        raise AssertionError(f"no {event!r} in the worker's log:\n{''.join(self.seen)}")

    def events(self, event: str) -> list[dict[str, Any]]:
        """Return every log event named ``event`` once the process has ended."""
        assert self.process.poll() is not None, "the worker still runs"
        while not self.lines.empty() or self.reader.is_alive():
            try:
                self.seen.append(self.lines.get(timeout=0.1))
            except queue.Empty:
                continue
        records = []
        for line in self.seen:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") == event:
                records.append(record)
        return records

    def stop(self, timeout: float = 30.0) -> int:
        """Send SIGTERM and return the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """End the process at once if it still runs (a failed test's cleanup)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def wait_until(done: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Check ``done`` every 50 ms until it holds; return False if it still fails after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def start_worker(database_url: str, **settings: str) -> Worker:
    """Start ``tanggap worker`` on ``database_url``; ``settings`` are more TANGGAP_ variables."""
    environment = {
        **os.environ,
        "TANGGAP_DATABASE_URL": database_url,
        "TANGGAP_SECRET_KEY": TEST_SECRET,
        "TANGGAP_ENV": "test",
        "TANGGAP_SQLITE_SYNCHRONOUS": "NORMAL",
        **{f"TANGGAP_{name.upper()}": value for name, value in settings.items()},
    }
    process = subprocess.Popen(
        [TANGGAP, "worker"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Worker(process)
