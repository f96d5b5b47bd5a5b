"""The seam for 1.2.2 (government requests, orders to provide information): the report asks a
function passed in; the legal register supplies one once it is wired in the runtime."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from tanggap.transparency.period import Period
from tanggap.transparency.schemas import CountryRequests


class GovernmentRequestFigures(Protocol):
    """Count the government requests per country over a period; None when not available."""

    def __call__(self, *, session: Session, period: Period) -> list[CountryRequests] | None:
        """Return one row per country, or None where no register holds them."""
        ...


def not_available(*, session: Session, period: Period) -> list[CountryRequests] | None:
    """Report government requests as not available (no register is wired)."""
    return None
