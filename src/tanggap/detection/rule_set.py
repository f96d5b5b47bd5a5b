"""The version of the rule set in force, in the database: the digest of the rule files' content
and a counter that every reload changing the content raises. Each process compares the counter
with the one it holds and reloads its files when the counter moved (``rules_live``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tanggap.db.base import insert_skipping_conflicts, utcnow
from tanggap.detection.models import RuleSetVersion

NAME = "rules"


@dataclass(frozen=True)
class Version:
    """The rule set recorded last: its digest and its counter."""

    digest: str
    counter: int


def files_digest(directory: Path) -> str:
    """Return the SHA-256 of the rule files of ``directory`` (their names and content)."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        try:
            content = path.read_bytes()
        except OSError:
            content = b""
        digest.update(f"{path.name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def current(*, session: Session) -> Version | None:
    """Return the version recorded last, or None before the first."""
    row = session.execute(
        select(RuleSetVersion.digest, RuleSetVersion.counter).where(RuleSetVersion.name == NAME)
    ).one_or_none()
    return Version(row.digest, row.counter) if row is not None else None


def record(*, session: Session, digest: str) -> Version:
    """Record ``digest`` as the rule set in force, raising the counter when it differs from the
    one recorded (one conditional write: of processes recording the same digest at once, one
    raises it); return the version now recorded."""
    now = utcnow()
    session.execute(
        insert_skipping_conflicts(session, RuleSetVersion, "name").values(
            name=NAME, digest=digest, counter=1, updated_at=now
        )
    )
    session.execute(
        update(RuleSetVersion)
        .where(RuleSetVersion.name == NAME, RuleSetVersion.digest != digest)
        .values(digest=digest, counter=RuleSetVersion.counter + 1, updated_at=now)
    )
    found = current(session=session)
    assert found is not None  # inserted above
    return found


class VersionStore:
    """The version row, read and written through a caller's session or in a transaction of
    its own."""

    def __init__(self, factory: sessionmaker[Session]):
        self.factory = factory

    def current(self, session: Session | None = None) -> Version | None:
        """Return the version recorded last."""
        if session is not None:
            return current(session=session)
        with self.factory() as own, own.begin():
            return current(session=own)

    def record(self, digest: str, session: Session | None = None) -> Version:
        """Record the digest of the rules just loaded; return the version now recorded."""
        if session is not None:
            return record(session=session, digest=digest)
        with self.factory() as own, own.begin():
            return record(session=own, digest=digest)
