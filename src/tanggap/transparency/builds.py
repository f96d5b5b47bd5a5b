"""How many transparency reports a process builds at once.

The report is public and anyone may ask for a year of it; each build reads every row of its
period. A process builds at most ``limit`` at a time and refuses the next reader at once (503,
try again shortly) rather than queue builds until the database is saturated."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tanggap.errors import Unavailable

BUILDS_AT_ONCE = 2


class Builds:
    """The slots for reports being built in this process."""

    def __init__(self, limit: int = BUILDS_AT_ONCE) -> None:
        self._slots = threading.BoundedSemaphore(limit)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot while a report is built; raise ``Unavailable`` when none is free."""
        if not self._slots.acquire(blocking=False):
            raise Unavailable(
                "other readers' transparency reports are being built: ask again in a few seconds"
            )
        try:
            yield
        finally:
            self._slots.release()
