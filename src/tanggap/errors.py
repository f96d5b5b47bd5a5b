"""Errors the domain raises; the API and the CLI turn each into a clear message."""

from __future__ import annotations


class TanggapError(Exception):
    """A request that cannot be carried out, with a message fit for the caller."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class InvalidInput(TanggapError):
    """A field's value is not acceptable."""

    status_code = 422
    code = "invalid_input"


class NotFound(TanggapError):
    """The thing asked for does not exist, or the caller may not know that it does."""

    status_code = 404
    code = "not_found"


class Conflict(TanggapError):
    """The request clashes with the current state (a claim held by someone else, a decided case)."""

    status_code = 409
    code = "conflict"


class Forbidden(TanggapError):
    """The caller's role may not do this."""

    status_code = 403
    code = "forbidden"


class Unavailable(TanggapError):
    """Tanggap cannot take this now; the caller should retry later."""

    status_code = 503
    code = "unavailable"


class RoundCutShort(Exception):
    """A background round that failed after committing part of its work: ``done`` things are
    done and stay done; the next round takes the rest."""

    def __init__(self, done: int) -> None:
        super().__init__(f"the round failed after {done} committed")
        self.done = done
