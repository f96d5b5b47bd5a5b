"""What the built-in pages show: the restrictions in force on posts and channels."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.builtin_pages.models import Restriction
from tanggap.channels.models import Channel


@dataclass(frozen=True)
class Visibility:
    """How one post appears to one viewer."""

    visible: bool
    reason: str | None = None  # "removed", "geo_restricted", "banned"
    restriction: Restriction | None = None

    @property
    def status_code(self) -> int:
        """Return the HTTP status of a page showing this: 451 for legal grounds, 410 removed."""
        if self.visible or self.restriction is None:
            return 200
        return 451 if self.restriction.ground == "law" else 410


def channel_ban(*, session: Session, channel: Channel) -> Restriction | None:
    """Return the ban in force on ``channel``, or None."""
    return (
        session.execute(
            select(Restriction)
            .where(Restriction.channel_id == channel.id)
            .where(Restriction.kind == "banned")
            .where(Restriction.lifted_at.is_(None))
            .order_by(Restriction.created_at)
        )
        .scalars()
        .first()
    )


def restrictions_of(*, session: Session, post_ids: list[int]) -> dict[int, list[Restriction]]:
    """Return the restrictions in force on each of ``post_ids``."""
    found: dict[int, list[Restriction]] = {pid: [] for pid in post_ids}
    if not post_ids:
        return found
    for restriction in session.execute(
        select(Restriction)
        .where(Restriction.post_id.in_(post_ids))
        .where(Restriction.lifted_at.is_(None))
        .order_by(Restriction.created_at)
    ).scalars():
        if restriction.post_id is not None:
            found[restriction.post_id].append(restriction)
    return found


def visibility(restrictions: list[Restriction], viewer_country: str | None) -> Visibility:
    """Decide whether a viewer from ``viewer_country`` sees a post with these restrictions."""
    for restriction in restrictions:
        if restriction.kind == "removed":
            return Visibility(False, "removed", restriction)
    for restriction in restrictions:
        if restriction.kind == "geo_restricted" and viewer_country in restriction.countries:
            return Visibility(False, "geo_restricted", restriction)
    return Visibility(True)
