"""Report links: every public form names its post, anything else is a LinkError that says why."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from tanggap.reports.links import LinkError, PostRef, parse_post_link
from tanggap.reports.schemas import ReportIn, TargetRef
from tanggap.validation import HANDLE_RE

MAX_MESSAGE_ID = 2**53  # the largest id a JSON number carries exactly

RESERVED = {"joinchat", "addstickers", "addemoji", "share", "proxy", "socks"}
# What Python itself says when a parser leaks an exception it did not mean to raise.
PYTHON_TEXT = ("invalid literal", "base 10", "Invalid IPv6", "int()", "Traceback", "object has no")

handles = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{3,31}", fullmatch=True).filter(
    lambda h: h.lower() not in RESERVED
)
message_ids = st.integers(min_value=1, max_value=MAX_MESSAGE_ID)
# Digits of other scripts and digit-like signs: Python's int() reads most of them.
foreign_digits = st.characters(categories=["Nd", "No", "Nl"]).filter(lambda c: not c.isascii())


@st.composite
def public_links(draw: st.DrawFn) -> tuple[str, PostRef]:
    """Draw a link in one of the forms people paste, and the post it names."""
    handle, number = draw(handles), draw(message_ids)
    written = draw(st.sampled_from([str(number), str(number).zfill(len(str(number)) + 2)]))
    if draw(st.booleans()):
        link = f"tg://resolve?domain={handle}&post={written}"
    else:
        scheme = draw(st.sampled_from(["", "http://", "https://", "HTTPS://"]))
        host = draw(st.sampled_from(["t.me", "T.ME", "telegram.me", "telegram.dog", "www.t.me"]))
        port = draw(st.sampled_from(["", ":80" if scheme == "http://" else ":443"]))
        preview = draw(st.sampled_from(["", "/s"]))
        tail = draw(st.sampled_from(["", "/", "?single", "?comment=7", "#top"]))
        link = f"{scheme}{host}{port}{preview}/{handle}/{written}{tail}"
    pad = draw(st.sampled_from(["", " ", "\t", "\n  "]))
    return pad + link + pad, PostRef(handle.lower(), number)


def _parsed_or_refused(link: str) -> PostRef | None:
    """Parse a link; a refusal must be a LinkError in the project's words."""
    try:
        ref = parse_post_link(link)
    except LinkError as exc:
        assert str(exc) and not any(text in str(exc) for text in PYTHON_TEXT), str(exc)
        return None
    assert HANDLE_RE.match(ref.channel) and ref.channel == ref.channel.lower()
    assert 1 <= ref.message_id <= MAX_MESSAGE_ID
    return ref


@given(public_links())
def test_every_public_form_names_its_post(case: tuple[str, PostRef]) -> None:
    link, expected = case
    assert parse_post_link(link) == expected


@given(handles, message_ids)
def test_the_canonical_url_reads_back_as_the_same_post(handle: str, number: int) -> None:
    ref = PostRef(handle.lower(), number)
    assert parse_post_link(ref.url) == ref


@given(st.text(max_size=80))
@example("https://[t.me/beritakita/5")
@example("t.me/beritakita/42\n/43")
def test_any_text_is_a_post_or_a_link_error(text: str) -> None:
    _parsed_or_refused(text)


@given(
    st.text(alphabet="htpsgr:/.meldoiw@[]%?#=&+0123456789١²_-ABCx \t", max_size=60),
    st.sampled_from(["", "https://t.me/", "t.me/beritakita/", "tg://resolve?domain=beritakita&"]),
)
def test_url_like_text_is_a_post_or_a_link_error(tail: str, head: str) -> None:
    _parsed_or_refused(head + tail)


@given(handles, st.text(min_size=1, max_size=6, alphabet="0123456789"), foreign_digits, st.data())
@example("beritakita", "5", "²", None)
@example("beritakita", "123", "١", None)
def test_digits_of_other_scripts_are_no_message_id(
    handle: str, digits: str, foreign: str, data: st.DataObject | None
) -> None:
    at = data.draw(st.integers(0, len(digits))) if data is not None else len(digits)
    written = digits[:at] + foreign + digits[at:]
    for link in (
        f"https://t.me/{handle}/{written}",
        f"tg://resolve?domain={handle}&post={written}",
    ):
        with pytest.raises(LinkError, match="not a message id"):
            parse_post_link(link)


@given(handles, message_ids, st.text(alphabet="abcxyz019:._-~!$&'()*+,;=%", max_size=20))
@example("beritakita", 5, "user:pw")
def test_links_with_a_user_name_or_password_are_refused(
    handle: str, number: int, userinfo: str
) -> None:
    with pytest.raises(LinkError, match="no user name or password"):
        parse_post_link(f"https://{userinfo}@t.me/{handle}/{number}")


@given(
    handles,
    message_ids,
    st.one_of(st.integers(min_value=0, max_value=10**6).map(str), st.text(max_size=8)).filter(
        lambda port: (
            port != "443"
            and not any(c in port for c in "/?#@[]")
            and not any(c.isspace() or not c.isprintable() for c in port)
        )
    ),
)
@example("beritakita", 5, "99999")
@example("beritakita", 5, "abc")
@example("beritakita", 5, "")
def test_a_port_other_than_the_schemes_own_is_refused(handle: str, number: int, port: str) -> None:
    with pytest.raises(LinkError, match="port"):
        parse_post_link(f"https://t.me:{port}/{handle}/{number}")


@given(st.text(max_size=60))
@example("t.me/beritakita/²")
@example("t.me/beritakita/١٢٣")
@example("https://user:pw@t.me/beritakita/5")
def test_a_report_names_the_target_field_when_its_link_is_wrong(text: str) -> None:
    try:
        report = ReportIn.model_validate({"target": text, "category": "spam"})
    except ValidationError as exc:
        for error in exc.errors():
            assert error["loc"][0] == "target", error
            assert not any(t in error["msg"] for t in PYTHON_TEXT), error["msg"]
        return
    ref = parse_post_link(text)
    assert report.target == TargetRef(channel=ref.channel, message_id=ref.message_id)
