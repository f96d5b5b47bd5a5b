"""An author's pseudonyms across the keys of the ring: linked when the author is seen again
after a rotation, so that what is known of them is found under whichever key it was stored."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tanggap.db.base import insert_skipping_conflicts, utcnow
from tanggap.posts.models import PseudonymLink
from tanggap.pseudonyms import Keyring


def link_older_keys(*, session: Session, keyring: Keyring, author_ids: Iterable[str]) -> None:
    """Link each author's pseudonyms under the ring's older keys to their current one (nothing
    to do with a ring of one key). A pseudonym linked before stays linked where it was."""
    if len(keyring.keys) < 2:
        return
    current, now = keyring.current.key_id, utcnow()
    rows = []
    for author_id in sorted(set(author_ids)):
        refs = keyring.refs(author_id)
        rows += [
            {"ref": ref, "key_id": key_id, "current_ref": refs[current], "linked_at": now}
            for key_id, ref in refs.items()
            if key_id != current
        ]
    if rows:
        session.execute(insert_skipping_conflicts(session, PseudonymLink, "ref"), rows)


def all_refs(*, session: Session, refs: Iterable[str]) -> set[str]:
    """Return ``refs`` with every pseudonym linked to them, however many rotations ago."""
    known = set(refs)
    frontier = set(known)
    while frontier:
        linked = session.execute(
            select(PseudonymLink.ref, PseudonymLink.current_ref).where(
                or_(PseudonymLink.ref.in_(frontier), PseudonymLink.current_ref.in_(frontier))
            )
        ).all()
        found = {ref for pair in linked for ref in pair} - known
        known |= found
        frontier = found
    return known
