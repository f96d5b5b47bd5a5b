"""The legal register's pure parts: documents read by their first bytes, the letters, the
signed instruction, the request's fields."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from tanggap.audit.signing import key_id, public_hex
from tanggap.errors import InvalidInput
from tanggap.legal import instruction, letters
from tanggap.legal.documents import digest_documents, media_type_of
from tanggap.legal.schemas import LegalRequestIn

PSEUDONYM = "ab" * 32


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (b"%PDF-1.4 ...", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
        (b"GIF89a....", "image/gif"),
        (b"II*\x00....", "image/tiff"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),
        (b"PK\x03\x04 a zip (or a .docx)", None),
        (b"<html>%PDF-", None),
        (b" %PDF-", None),
        (b"", None),
    ],
)
def test_a_document_is_what_its_first_bytes_say(data: bytes, media_type: str | None) -> None:
    assert media_type_of(data) == media_type


def test_documents_are_kept_as_digest_size_and_type_and_a_bad_one_refuses_the_lot() -> None:
    kept = digest_documents([b"%PDF-1.4 x", b"\xff\xd8\xffjpeg"])
    assert [(d.sha256, d.size, d.media_type) for d in kept] == [
        (hashlib.sha256(b"%PDF-1.4 x").hexdigest(), 10, "application/pdf"),
        (hashlib.sha256(b"\xff\xd8\xffjpeg").hexdigest(), 7, "image/jpeg"),
    ]
    with pytest.raises(InvalidInput) as refused:
        digest_documents([b"%PDF-1.4 x", b"#!/bin/sh"])
    assert refused.value.field == "documents" and "document 2" in refused.value.message


def test_a_request_names_pseudonyms_links_and_channels_in_their_canonical_forms() -> None:
    data = LegalRequestIn(
        kind="user_data",
        authority="Court",
        country=" my ",
        legal_basis="Act 1",
        reference="R-1",
        received_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
        links=["t.me/s/BeritaKita/5", "https://t.me/beritakita/5"],
        channels=["@BeritaKita"],
        pseudonyms=[PSEUDONYM.upper(), PSEUDONYM],
    )
    assert data.country == "MY" and data.links == ["https://t.me/beritakita/5"]
    assert data.channels == ["beritakita"] and data.pseudonyms == [PSEUDONYM]
    with pytest.raises(ValidationError, match="pseudonym 1"):
        LegalRequestIn.model_validate({**data.model_dump(), "pseudonyms": ["6281234567890"]})


FACTS = letters.LetterFacts(
    request_id="6f1d0c5e-8c1e-4a53-9d0e-3b2f7a1c9e10",
    kind="user_data",
    authority="Kejaksaan Negeri Jakarta Pusat",
    reference="B-77/M.1.10/Eku.2/12/2026",
    legal_basis="KUHAP Pasal 132",
    received_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
    answered_at=datetime(2026, 12, 2, 9, tzinfo=UTC),
    policy="no_disclosure",
    accounts_named=1,
)


@pytest.mark.parametrize("language", letters.LANGUAGES)
def test_a_refusal_letter_names_the_authority_reference_dates_and_policy(language: str) -> None:
    text = letters.render(FACTS, language)
    for fact in (FACTS.authority, FACTS.reference, FACTS.request_id, "2026-12-01", "2026-12-02"):
        assert fact in text
    assert "no_disclosure" in text and PSEUDONYM not in text
    assert letters.render(FACTS, language) == text  # the same facts, the same letter
    assert letters.digest(text) == hashlib.sha256(text.encode()).hexdigest()


def test_the_instruction_is_signed_and_any_change_breaks_the_signature() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    document = instruction.build(
        request_id="r-1",
        country="ID",
        authority="Pengadilan Negeri Jakarta Selatan",
        reference="12/Pid/2026",
        legal_basis="KUHAP",
        pseudonyms=["cd" * 32, PSEUDONYM],
        granted_at=datetime(2026, 12, 2, 9, tzinfo=UTC),
    )
    assert document["pseudonyms"] == [PSEUDONYM, "cd" * 32]
    canonical, signature, signer = instruction.sign(key, document)
    public = public_hex(key)
    assert signer == key_id(public)
    assert instruction.holds(public, canonical, signature)
    assert not instruction.holds(public, canonical.replace("12/Pid", "13/Pid"), signature)
    other = public_hex(Ed25519PrivateKey.from_private_bytes(bytes(32)))
    assert not instruction.holds(other, canonical, signature)
    assert not instruction.holds(public, canonical, "00" * 64)
