"""Documents that come with a request: read by their first bytes, kept as a digest only."""

from __future__ import annotations

import hashlib

from tanggap.errors import InvalidInput
from tanggap.legal.schemas import Document

MAX_DOCUMENTS = 20
# What a document must start with to be what it claims: PDF, or an image (the name and the
# declared type are not trusted).
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


def media_type_of(data: bytes) -> str | None:
    """Return the media type ``data`` starts like (PDF or an image), or None."""
    for magic, media_type in SIGNATURES:
        if data.startswith(magic):
            return media_type
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def digest_documents(files: list[bytes], *, field: str = "documents") -> list[Document]:
    """Check each document is a PDF or an image and return its digest, size and media type;
    refuse the lot, naming the document, when one is not."""
    if len(files) > MAX_DOCUMENTS:
        raise InvalidInput(f"at most {MAX_DOCUMENTS} documents per request", field=field)
    documents = []
    for index, data in enumerate(files):
        media_type = media_type_of(data)
        if not data:
            raise InvalidInput(f"document {index + 1} is empty", field=field)
        if media_type is None:
            raise InvalidInput(
                f"document {index + 1} is neither a PDF nor an image (PNG, JPEG, GIF, TIFF, "
                "WebP); its content was checked, not its name",
                field=field,
            )
        documents.append(
            Document(sha256=hashlib.sha256(data).hexdigest(), size=len(data), media_type=media_type)
        )
    return documents
