"""Read the post a report points at from a public link or a ``{channel, message_id}`` pair."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qs, urlsplit

from tanggap.validation import normalise_handle, read_message_id

HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog"})
# Paths under t.me that are not channel handles.
_RESERVED = frozenset({"c", "joinchat", "addstickers", "addemoji", "share", "proxy", "socks", "iv"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_LINK_CHARS = 2048


class LinkError(ValueError):
    """The link does not name one public post."""


@dataclass(frozen=True)
class PostRef:
    """A public post named by its channel handle and message id."""

    channel: str
    message_id: int

    @property
    def url(self) -> str:
        """Return the canonical public link of the post."""
        return f"https://t.me/{self.channel}/{self.message_id}"


def parse_post_link(link: str) -> PostRef:
    """Parse ``https://t.me/<channel>/<id>`` and its variants into a PostRef."""
    text = link.strip()
    if not text:
        raise LinkError("the link is empty")
    if len(text) > MAX_LINK_CHARS:
        raise LinkError(f"the link is longer than {MAX_LINK_CHARS} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        # urlsplit drops tabs and newlines silently; a link carrying them is not one link.
        raise LinkError("the link contains spaces or control characters")
    if text.lower().startswith("tg://"):
        return _parse_tg_scheme(text)
    if "://" not in text:
        text = "https://" + text
    parts = _split(text)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise LinkError(f"unsupported link scheme {parts.scheme!r}")
    if "@" in parts.netloc:
        raise LinkError("a public post link carries no user name or password")
    host = (parts.hostname or "").lower().removeprefix("www.")
    if host not in HOSTS:
        raise LinkError(f"{host or 'the link'} is not a public channel link (t.me or telegram.me)")
    _check_port(parts.netloc, scheme)
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[0] == "s":  # t.me/s/<channel>/<id> is the web preview
        segments = segments[1:]
    if not segments:
        raise LinkError("the link names no channel")
    first = segments[0]
    if first.startswith("+") or first.lower() in _RESERVED:
        raise LinkError("private chats and invite links are out of scope: only public posts")
    if len(segments) != 2:
        raise LinkError("the link must name a channel and a message: t.me/<channel>/<message_id>")
    return PostRef(_handle(first), _message_id(segments[1]))


def _split(text: str) -> SplitResult:
    try:
        return urlsplit(text)
    except ValueError as exc:  # an unbalanced "[" of an IPv6 address, say
        raise LinkError("the link is not a well-formed URL") from exc


def _check_port(netloc: str, scheme: str) -> None:
    _, colon, port = netloc.rpartition(":")
    if not colon:
        return
    if not (port.isascii() and port.isdigit()) or int(port) != _DEFAULT_PORTS[scheme]:
        raise LinkError(f"port {port!r} is not where public posts are served")


def _parse_tg_scheme(text: str) -> PostRef:
    parts = _split(text)
    if parts.netloc.lower() != "resolve":
        raise LinkError("only tg://resolve?domain=<channel>&post=<id> links are understood")
    query = parse_qs(parts.query)
    domain, post = query.get("domain", [""])[0], query.get("post", [""])[0]
    if not domain or not post:
        raise LinkError("a tg://resolve link needs both domain= and post=")
    return PostRef(_handle(domain), _message_id(post))


def _handle(value: str) -> str:
    if value.lower() in _RESERVED:
        raise LinkError("private chats and invite links are out of scope: only public posts")
    try:
        return normalise_handle(value)
    except ValueError as exc:
        raise LinkError(str(exc)) from exc


def _message_id(value: str) -> int:
    try:
        return read_message_id(value)
    except ValueError as exc:
        raise LinkError(str(exc)) from exc
