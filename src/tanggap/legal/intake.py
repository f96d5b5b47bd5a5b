"""Read a request as a form sends it (the API's multipart body, the console's intake form)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from tanggap.errors import InvalidInput
from tanggap.legal.documents import digest_documents
from tanggap.legal.schemas import Document, LegalRequestIn
from tanggap.validation import validation_details

LIST_FIELDS = ("links", "channels", "pseudonyms", "report_ids")


@dataclass(frozen=True)
class FormIntake:
    """A request's fields as text, its list fields (one value a line or a repeated field), and
    its documents' bytes."""

    fields: dict[str, str]
    lists: dict[str, list[str]] = field(default_factory=dict)
    files: list[bytes] = field(default_factory=list)


def _lines(values: list[str]) -> list[str]:
    return [line.strip() for value in values for line in value.splitlines() if line.strip()]


def read_form(form: FormIntake) -> tuple[LegalRequestIn, list[Document]]:
    """Validate the fields and the documents; raise InvalidInput naming the first bad field."""
    raw: dict[str, object] = {k: v for k, v in form.fields.items() if v.strip()}
    raw |= {name: _lines(form.lists.get(name, [])) for name in LIST_FIELDS}
    try:
        data = LegalRequestIn.model_validate(raw)
    except ValidationError as exc:
        first = validation_details([dict(error) for error in exc.errors()])[0]
        name, _, position = first["field"].partition(".")
        message = "this field is required" if first["message"] == "Field required" else None
        message = message or first["message"]
        if position.isdigit():  # one value of a list field: the list is the field
            message = f"value {int(position) + 1}: {message}"
        raise InvalidInput(message, field=name) from None
    return data, digest_documents(form.files)


def payload_of(form: FormIntake, documents: list[Document]) -> dict[str, object]:
    """What an Idempotency-Key's fingerprint covers: the fields and the documents' digests."""
    return {
        "fields": dict(sorted(form.fields.items())),
        "lists": {name: _lines(form.lists.get(name, [])) for name in LIST_FIELDS},
        "documents": [d.sha256 for d in documents],
    }
