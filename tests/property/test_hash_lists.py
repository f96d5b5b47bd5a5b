"""ThreatExchange hash lists: what Tanggap exports reads back as the same entries, and any file
is either entries or one InvalidInput naming the file (and the line), never another exception."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tanggap.banks import exchange
from tanggap.banks.schemas import HEX_LENGTH, EntryIn
from tanggap.errors import InvalidInput

PYTHON_TEXT = ("Traceback", "field larger than", "new-line character", "expected after", "NoneType")
entries = st.lists(
    st.sampled_from(sorted(HEX_LENGTH)).flatmap(
        lambda kind: st.tuples(
            st.just(kind),
            st.text("0123456789abcdef", min_size=HEX_LENGTH[kind], max_size=HEX_LENGTH[kind]),
        )
    ),
    min_size=1,
    max_size=20,
)
# Collaboration names and tags as an operator types them: any text but NUL, line breaks too.
names = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)


def _read(content: str, **options: object) -> exchange.Parsed | None:
    try:
        return exchange.parse(content, **options)  # type: ignore[arg-type]
    except InvalidInput as exc:
        assert exc.field == "file" and exc.message
        assert not any(text in exc.message for text in PYTHON_TEXT), exc.message
        return None


@given(entries, st.sampled_from(["auto", "te"]))
def test_an_exported_list_reads_back_as_the_same_entries(
    listed: list[tuple[str, str]], fmt: str
) -> None:
    content = "".join(exchange.export(listed, fmt="te", collab="", tags=""))
    assert exchange.detect(content) == "te"
    parsed = exchange.parse(content, fmt=fmt)  # type: ignore[arg-type]
    assert [(e.kind, e.value) for e in parsed.entries] == listed
    assert all(e.label is None for e in parsed.entries)


@given(entries, names, names, st.sampled_from(["auto", "te-csv"]))
@example([("md5", "0" * 32)], "GIFCT\r", "tvec", "te-csv")  # without the fix: an unreadable CSV
def test_an_exported_csv_reads_back_with_its_labels(
    listed: list[tuple[str, str]], collab: str, tags: str, fmt: str
) -> None:
    content = "".join(exchange.export(listed, fmt="te-csv", collab=collab, tags=tags))
    assert exchange.detect(content) == "te-csv"
    parsed = exchange.parse(content, fmt=fmt)  # type: ignore[arg-type]
    assert [(e.kind, e.value) for e in parsed.entries] == listed
    one_line = [" ".join(text.splitlines()) for text in (collab, tags)]
    label = " ".join(text for text in one_line if text)[:200] or None
    expected = EntryIn(kind="md5", value="0" * 32, label=label).label
    assert {e.label for e in parsed.entries} == {expected}


@given(st.text(max_size=300), st.sampled_from(["auto", "te", "te-csv"]), st.booleans())
@example('signal_type,signal_str\npdq,"' + "a" * 140_000 + '"\n', "auto", False)
@example('signal_type,signal_str\n"pdq', "te-csv", False)
@example("pdq " + "g" * 64, "te", False)
@example("raw_text !!!", "te", False)
@example("\ufeffsignal_type,signal_str,category\npdq,x,NEGATIVE_CLASS\n", "auto", False)
def test_any_file_is_entries_or_a_refusal_naming_the_file(
    content: str, fmt: str, skip: bool
) -> None:
    parsed = _read(content, fmt=fmt, skip_unsupported=skip)
    if parsed is not None:
        assert parsed.entries or parsed.unsupported or parsed.not_positive
        for entry in parsed.entries:
            assert len(entry.value) == HEX_LENGTH[entry.kind]
            assert entry.label is None or len(entry.label) <= 200


@given(
    st.lists(
        st.tuples(
            st.sampled_from([*exchange.IMPORTS, "PDQ", "photo_md5", "", "x y"]),
            st.one_of(st.text("0123456789abcdefABCDEF", max_size=70), st.text(max_size=20)),
        ),
        max_size=6,
    ),
    st.booleans(),
)
def test_malformed_lines_name_their_line(lines: list[tuple[str, str]], skip: bool) -> None:
    content = "\n".join(f"{kind} {signal}" for kind, signal in lines)
    try:
        exchange.parse(content, fmt="te", skip_unsupported=skip)
    except InvalidInput as exc:
        assert exc.message.startswith(("line ", "the file holds no signals")), exc.message


def test_a_refused_line_adds_nothing() -> None:
    with pytest.raises(InvalidInput, match="line 2: a md5 hash is 32 hex digits"):
        exchange.parse("video_md5 " + "0" * 32 + "\nvideo_md5 xyz\n", fmt="te")
