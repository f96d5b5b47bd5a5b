"""Hash lists in and out, in the formats of Meta's ``threatexchange`` library (pure: text in,
entries out), so that lists shared by GIFCT, Tech Against Terrorism or an HMA deployment load as
they are and Tanggap's banks load there.

Two formats:

- ``te``: one signal per line, ``<signal type> <signal>`` — what threatexchange's file exchange
  (``LocalFileSignalExchangeAPI``) reads and appends, and ``threatexchange dataset -P -S`` prints.
- ``te-csv``: ``threatexchange dataset -P --csv``: a header
  ``signal_type,signal_str,collab,category,tags`` and one row per signal and collaboration;
  only ``POSITIVE_CLASS`` rows are imported (a negative or disputed opinion is not a match list).

Signal types (threatexchange's names): ``pdq``, ``video_md5`` (any file's MD5), ``video_sha256``,
``raw_text`` (turned into a MinHash signature here; the text is not kept) and Tanggap's own
``tanggap_minhash`` (a 512-hex signature, what a text entry exports as). The descriptor names of
the older ThreatExchange API (``HASH_PDQ``, ``HASH_MD5``, ``HASH_SHA256``) are read too.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from pydantic import ValidationError

from tanggap.banks.models import HashKind
from tanggap.banks.schemas import EntryIn
from tanggap.detectors.minhash import signature
from tanggap.detectors.normalise import normalise
from tanggap.errors import InvalidInput

Format = Literal["auto", "te", "te-csv"]
ExportFormat = Literal["te", "te-csv"]
FORMATS: dict[str, Format] = {"auto": "auto", "te": "te", "te-csv": "te-csv"}
EXPORT_FORMATS: dict[str, ExportFormat] = {"te": "te", "te-csv": "te-csv"}
CSV_HEADER = ["signal_type", "signal_str", "collab", "category", "tags"]
MAX_ENTRIES = 5_000_000

# threatexchange signal type -> Tanggap entry kind ("text": turned into a MinHash signature)
IMPORTS: dict[str, HashKind | Literal["text"]] = {
    "pdq": "pdq",
    "hash_pdq": "pdq",
    "video_md5": "md5",
    "md5": "md5",
    "hash_md5": "md5",
    "video_sha256": "sha256",
    "sha256": "sha256",
    "hash_sha256": "sha256",
    "hash_video_md5": "md5",
    "hash_video_sha256": "sha256",
    "text_string": "text",
    "tanggap_minhash": "minhash",
    "raw_text": "text",
}
EXPORTS = {"pdq": "pdq", "md5": "video_md5", "sha256": "video_sha256", "minhash": "tanggap_minhash"}


@dataclass
class Parsed:
    """What a hash list held: entries to add, and what was left out and why."""

    entries: list[EntryIn] = field(default_factory=list)
    unsupported: Counter[str] = field(default_factory=Counter)
    not_positive: int = 0


def _lines(content: str) -> Iterator[tuple[int, str, str, str | None]]:
    """Yield (line number, signal type, signal, label) from the one-per-line format."""
    for number, line in enumerate(content.split("\n"), start=1):  # as readlines() splits
        stripped = line.strip()
        if not stripped:
            continue
        signal_type, _, signal = stripped.partition(" ")
        yield number, signal_type, signal.strip(), None


def _csv_rows(content: str, parsed: Parsed) -> Iterator[tuple[int, str, str, str | None]]:
    """Yield (line number, signal type, signal, label) from the dataset CSV; skip opinions that
    are not positive."""
    reader = csv.DictReader(io.StringIO(content))
    missing = {"signal_type", "signal_str"} - set(reader.fieldnames or [])
    if missing:
        raise InvalidInput(
            f"line 1: the CSV header lacks {', '.join(sorted(missing))}", field="file"
        )
    for row in reader:
        number = reader.line_num
        category = (row.get("category") or "POSITIVE_CLASS").strip().upper()
        if category != "POSITIVE_CLASS":
            parsed.not_positive += 1
            continue
        label = " ".join(v for v in (row.get("collab"), row.get("tags")) if v) or None
        yield number, (row["signal_type"] or "").strip(), (row["signal_str"] or "").strip(), label


def detect(content: str) -> Literal["te", "te-csv"]:
    """Tell the dataset CSV (it starts with its header) from the one-per-line format."""
    first = content.lstrip("\ufeff").split("\n", 1)[0].strip().lower().replace('"', "")
    columns = {column.strip() for column in first.split(",")}
    return "te-csv" if "," in first and "signal_type" in columns else "te"


def parse(content: str, *, fmt: Format = "auto", skip_unsupported: bool = False) -> Parsed:
    """Read a hash list. A malformed line stops everything (nothing is added) with its number; a
    signal type Tanggap cannot match is refused too, unless ``skip_unsupported``."""
    content = content.lstrip("\ufeff")
    chosen = detect(content) if fmt == "auto" else fmt
    parsed = Parsed()
    rows = _csv_rows(content, parsed) if chosen == "te-csv" else _lines(content)
    try:
        for number, signal_type, signal, label in rows:
            kind = IMPORTS.get(signal_type.lower())
            if kind is None:
                if skip_unsupported:
                    parsed.unsupported[signal_type] += 1
                    continue
                raise InvalidInput(
                    f"line {number}: signal type {signal_type!r} cannot be matched here "
                    f"(known: {', '.join(sorted(set(IMPORTS) - {'md5', 'sha256'}))}); "
                    "skip such lines with skip_unsupported",
                    field="file",
                )
            parsed.entries.append(_entry(number, kind, signal, label))
            if len(parsed.entries) > MAX_ENTRIES:
                raise InvalidInput(f"more than {MAX_ENTRIES} signals in one import", field="file")
    except csv.Error as exc:
        # The csv module's own words ("field larger than field limit") say little to a caller.
        raise InvalidInput(
            "not a threatexchange CSV: a quoted field is not closed or is longer than "
            f"{csv.field_size_limit() // 1024} KiB",
            field="file",
        ) from exc
    if not parsed.entries and not parsed.unsupported and not parsed.not_positive:
        raise InvalidInput("the file holds no signals", field="file")
    return parsed


def text_entry(text: str, label: str | None) -> EntryIn | None:
    """A text as a bank keeps it: its MinHash signature (None for a text without words)."""
    found = signature(normalise(text))
    return None if found is None else EntryIn(kind="minhash", value=found.hex(), label=label)


def _entry(
    number: int, kind: HashKind | Literal["text"], signal: str, label: str | None
) -> EntryIn:
    if not signal:
        raise InvalidInput(f"line {number}: a {kind} line without its signal", field="file")
    label = label[:200] if label else None
    if kind == "text":
        entry = text_entry(signal, label)
        if entry is None:
            raise InvalidInput(f"line {number}: raw_text has no words to match", field="file")
        return entry
    try:
        return EntryIn(kind=kind, value=signal, label=label)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"line {number}: {reason}", field="file") from exc


def export(
    entries: Iterable[tuple[str, str]], *, fmt: Literal["te", "te-csv"], collab: str, tags: str
) -> Iterator[str]:
    """Write (kind, value) entries as threatexchange reads them, one chunk of text at a time."""
    if fmt == "te":
        for kind, value in entries:
            yield f"{EXPORTS[kind]} {value}\n"
        return
    # With "\n" ending rows the csv writer leaves a "\r" unquoted, which no reader takes back;
    # a collaboration's name and tags are one line anyway.
    collab, tags = _one_line(collab), _one_line(tags)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for kind, value in entries:
        writer.writerow([EXPORTS[kind], value, collab, "POSITIVE_CLASS", tags])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())
