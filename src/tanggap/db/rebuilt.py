"""In-memory structures built from rows and built again when those rows change (the signatures
of removed content): the change is told by the rows' count and largest id, one cheap query. (The
hash banks' indexes are not rebuilt: they follow their entries by delta, ``banks.changes``.)"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

T = TypeVar("T")


def stamp(
    session: Session, id_column: InstrumentedAttribute[Any], *where: ColumnElement[bool]
) -> tuple[int, int]:
    """Return (count, largest id) of the rows matching ``where``: adding a row raises the id,
    removing one lowers the count."""
    count, last = session.execute(
        select(func.count(id_column), func.coalesce(func.max(id_column), 0)).where(*where)
    ).one()
    return int(count), int(last)


class Rebuilt(Generic[T]):
    """A value built from rows, rebuilt when their stamp changes: built aside, then swapped in,
    so a concurrent reader sees the old value or the new one, never half of one."""

    def __init__(self, empty: T) -> None:
        self.value = empty
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def fresh(
        self,
        session: Session,
        build: Callable[[], T],
        id_column: InstrumentedAttribute[Any],
        *where: ColumnElement[bool],
    ) -> T:
        """Return the value, rebuilt first by ``build`` if the rows changed since it was built."""
        key = stamp(session, id_column, *where)
        if key == self._stamp:
            return self.value
        with self._lock:
            if key != self._stamp:  # another thread may have rebuilt it meanwhile
                self.value = build()
                self._stamp = key
            return self.value
