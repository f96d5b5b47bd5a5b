"""Turn what a flagger pastes or uploads into report lines for bulk intake."""

from __future__ import annotations

import csv
import io
from typing import Any

from tanggap.errors import InvalidInput
from tanggap.reports.schemas import MAX_BULK

CSV_COLUMNS = (
    "link",
    "category",
    "note",
    "order_type",
    "legal_basis",
    "issuing_authority",
    "deadline",
)
MAX_CSV_BYTES = 2 * 1024 * 1024


def pasted_lines(text: str, *, category: str, note: str | None) -> list[dict[str, Any]]:
    """One report per non-empty pasted line (a link), all of one category."""
    links = [line.strip() for line in text.splitlines() if line.strip()]
    if not links:
        raise InvalidInput("paste at least one link, one per line", field="links")
    if len(links) > MAX_BULK:
        raise InvalidInput(
            f"at most {MAX_BULK} links at once; you pasted {len(links)}", field="links"
        )
    return [{"target": link, "category": category, "note": note or None} for link in links]


def csv_lines(data: bytes) -> list[dict[str, Any]]:
    """Read an uploaded CSV (header row with at least ``link`` and ``category``)."""
    if not data.strip():
        raise InvalidInput("the file is empty", field="file")
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_CSV_BYTES // 1024} KiB", field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the file is not UTF-8 text", field="file") from exc
    if not text.strip():
        raise InvalidInput("the file is empty", field="file")
    # Spreadsheets set to Indonesian save CSV with semicolons: take what the header row uses.
    first_line = text.splitlines()[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        # The csv module's own words ("',' expected after '\"'") mean little to a flagger.
        raise InvalidInput(
            f"the file is not valid CSV at line {reader.line_num}: check its quotes, or a cell "
            f"longer than {csv.field_size_limit() // 1024} KiB",
            field="file",
        ) from exc
    header = [name.strip().lower() for name in rows[0]]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise InvalidInput(
            f"unknown column {unknown[0]!r}; columns are {', '.join(CSV_COLUMNS)}", field="file"
        )
    missing = [name for name in ("link", "category") if name not in header]
    if missing:
        raise InvalidInput(f"the header row needs a {missing[0]!r} column", field="file")
    if len(set(header)) != len(header):
        raise InvalidInput("a column appears twice in the header row", field="file")
    body = [row for row in rows[1:] if any(cell.strip() for cell in row)]
    if not body:
        raise InvalidInput("the file has a header but no rows", field="file")
    if len(body) > MAX_BULK:
        raise InvalidInput(
            f"at most {MAX_BULK} rows at once; the file has {len(body)}", field="file"
        )
    lines = []
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise InvalidInput(
                f"row {number} has {len(row)} cells but the header has {len(header)}", field="file"
            )
        cells = {name: cell.strip() for name, cell in zip(header, row, strict=True) if cell.strip()}
        line: dict[str, Any] = {"target": cells.pop("link", ""), **cells}
        lines.append(line)
    return lines
