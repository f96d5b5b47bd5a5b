"""The letters that answer a request, in Bahasa Indonesia and English, from the templates
shipped with this package."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from tanggap.legal.schemas import LinkOutcome

LANGUAGES = ("id", "en")
TEMPLATES = Path(__file__).parent / "templates"
KIND_NAMES = {
    "user_data": ("request for user data", "permintaan data pengguna"),
    "content_removal": ("request to remove content", "permintaan penghapusan konten"),
    "preservation": ("request to preserve data", "permintaan penyimpanan data"),
}
OUTCOME_NAMES = {
    "actioned": ("removed or restricted", "dihapus atau dibatasi"),
    "declined": ("reviewed; no violation found, left up", "ditinjau; tidak ada pelanggaran"),
    "objected": ("objected to, with our reasons", "disanggah, dengan alasan kami"),
    "pending": ("still under review", "masih ditinjau"),
}
_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    undefined=StrictUndefined,
    autoescape=False,  # plain-text letters
    keep_trailing_newline=True,
    trim_blocks=True,
)


@dataclass(frozen=True)
class LetterFacts:
    """What a letter says: the request, its answer, and how many accounts it named."""

    request_id: str
    kind: str
    authority: str
    reference: str
    legal_basis: str
    received_at: datetime
    answered_at: datetime
    policy: str
    accounts_named: int
    links: tuple[LinkOutcome, ...] = ()


def render(facts: LetterFacts, language: str) -> str:
    """Render the letter of ``facts`` in ``language`` (``id`` or ``en``)."""
    english, indonesian = KIND_NAMES[facts.kind]
    named = facts.accounts_named
    return _environment.get_template(f"letter_{language}.txt.j2").render(
        request_id=facts.request_id,
        kind=facts.kind,
        kind_name=english,
        kind_name_id=indonesian,
        authority=facts.authority,
        reference=facts.reference,
        legal_basis=facts.legal_basis,
        received_on=facts.received_at.strftime("%Y-%m-%d"),
        answered_on=facts.answered_at.strftime("%Y-%m-%d"),
        policy=facts.policy,
        # Only how many: a letter never repeats the pseudonyms it was given.
        scope_named=f"{named} account{'s' if named != 1 else ''}" if named else "",
        scope_named_id=f"{named} akun" if named else "",
        links=[
            {
                "report_id": str(link.report_id),
                "outcome_en": OUTCOME_NAMES[link.outcome][0],
                "outcome_id": OUTCOME_NAMES[link.outcome][1],
            }
            for link in facts.links
        ],
    )


def digest(text: str) -> str:
    """Return the SHA-256 of a letter's text (UTF-8), as recorded in the register."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
