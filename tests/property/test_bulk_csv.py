"""The portal's bulk intake: a spreadsheet's CSV or pasted links become report lines, or one
InvalidInput naming the file (or the links) says why not."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from tanggap.errors import InvalidInput
from tanggap.portal.intake import CSV_COLUMNS, csv_lines, pasted_lines
from tanggap.reports.schemas import MAX_BULK, ReportIn
from tanggap.validation import validation_details

PYTHON_TEXT = ("expected after", "Error", "codec", "Traceback", "line contains")
OPTIONAL = [name for name in CSV_COLUMNS if name not in ("link", "category")]
# Cells as spreadsheets write them: any text, commas, quotes, line breaks and all.
cells = st.text(st.characters(codec="utf-8"), max_size=30)


@st.composite
def spreadsheets(draw: st.DrawFn) -> tuple[bytes, list[dict[str, Any]] | None]:
    """Draw a CSV file and the lines it should give (None: it has a header but no rows)."""
    columns = ["link", "category", *draw(st.lists(st.sampled_from(OPTIONAL), unique=True))]
    columns = draw(st.permutations(columns))
    header = [draw(st.sampled_from([c, c.upper(), f" {c} ", c.title()])) for c in columns]
    rows = draw(st.lists(st.lists(cells, min_size=len(columns), max_size=len(columns)), max_size=8))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    buffer = io.StringIO()
    # "\r\n" as spreadsheets end rows: with "\n" the csv writer leaves a cell's "\r" unquoted.
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n", quoting=quoting)
    writer.writerow(header)
    writer.writerows(rows)
    bom = draw(st.sampled_from(["", "\ufeff"]))
    expected = []
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        kept = {name: cell.strip() for name, cell in zip(columns, row, strict=True) if cell.strip()}
        expected.append({"target": kept.pop("link", ""), **kept})
    return (bom + buffer.getvalue()).encode("utf-8"), expected or None


def _refused(call: Any, field: str) -> InvalidInput | None:
    try:
        call()
    except InvalidInput as exc:
        assert exc.field == field and exc.message
        assert not any(text in exc.message for text in PYTHON_TEXT), exc.message
        return exc
    return None


@given(spreadsheets())
def test_a_written_spreadsheet_reads_back_line_by_line(
    case: tuple[bytes, list[dict[str, Any]] | None],
) -> None:
    data, expected = case
    if expected is None:
        with pytest.raises(InvalidInput, match="header but no rows"):
            csv_lines(data)
    else:
        assert csv_lines(data) == expected


@given(st.binary(max_size=300))
@example(b'link,category\n"unclosed,spam\n')
@example(b"link,category\n" + b'"' + b"x" * 140_000 + b'",spam\n')
@example(b"\xff\xfelink")
def test_any_bytes_are_lines_or_a_refusal_naming_the_file(data: bytes) -> None:
    _check_any_upload(data)


@given(
    st.lists(
        st.one_of(
            cells,
            st.sampled_from(["link", "category", "note", "deadline", "t.me/beritakita/5", '"']),
        ),
        max_size=12,
    ),
    st.sampled_from([",", ";", "\t", "\n", '"']),
)
def test_csv_like_text_is_lines_or_a_refusal_naming_the_file(parts: list[str], joint: str) -> None:
    _check_any_upload(("link,category\n" + joint.join(parts)).encode("utf-8"))


def _check_any_upload(data: bytes) -> None:
    outcome: list[dict[str, Any]] = []
    if _refused(lambda: outcome.extend(csv_lines(data)), "file") is not None:
        return
    assert 1 <= len(outcome) <= MAX_BULK
    for line in outcome:
        assert set(line) <= {"target", *CSV_COLUMNS} - {"link"}
        # Each line is then judged as a report: valid, or refused naming its fields.
        try:
            ReportIn.model_validate(line)
        except ValidationError as exc:
            for detail in validation_details(exc.errors()):
                assert detail["field"].split(".")[0] in ReportIn.model_fields, detail


def test_a_quoted_cell_keeps_its_delimiters_and_quotes() -> None:
    data = b'link;category;note\r\nt.me/beritakita/5;spam;"a; b ""c"""\r\n'
    assert csv_lines(data) == [
        {"target": "t.me/beritakita/5", "category": "spam", "note": 'a; b "c"'}
    ]


def test_the_line_limit_is_a_thousand_rows() -> None:
    rows = "".join(f"t.me/beritakita/{n},spam\n" for n in range(1, MAX_BULK + 1))
    assert len(csv_lines(f"link,category\n{rows}".encode())) == MAX_BULK
    with pytest.raises(InvalidInput, match=f"at most {MAX_BULK} rows"):
        csv_lines(f"link,category\n{rows}t.me/beritakita/0,spam\n".encode())


def test_a_broken_quote_is_refused_in_the_projects_words() -> None:
    # Without the fix the message was the csv module's: "',' expected after '\"'".
    with pytest.raises(InvalidInput, match="not valid CSV at line 2") as caught:
        csv_lines(b'link,category\n"t.me/beritakita/5"x,spam\n')
    assert "expected after" not in caught.value.message


@given(
    st.lists(
        st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=40), max_size=20
    ),
    st.sampled_from(["\n", "\r\n", "\r", "\u2028"]),
)
def test_pasted_links_are_one_line_each(links: list[str], newline: str) -> None:
    text = newline.join(links)
    outcome: list[dict[str, Any]] = []
    if _refused(lambda: outcome.extend(pasted_lines(text, category="spam", note=None)), "links"):
        assert not any(line.strip() for line in text.splitlines())
        return
    assert [line["target"] for line in outcome] == [
        line.strip() for line in text.splitlines() if line.strip()
    ]
    assert all(line["category"] == "spam" and line["note"] is None for line in outcome)


def test_pasting_more_than_a_thousand_links_is_refused() -> None:
    text = "\n".join(f"t.me/beritakita/{n}" for n in range(1, MAX_BULK + 2))
    with pytest.raises(InvalidInput, match=f"at most {MAX_BULK} links") as caught:
        pasted_lines(text, category="spam", note=None)
    assert caught.value.field == "links"
