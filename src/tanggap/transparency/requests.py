"""The seam for 1.2.2 (government requests, orders to provide information): the report asks a
function passed in; the runtime passes the legal register's (``from_register``)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from tanggap.legal.figures import register_figures
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


def from_register(*, session: Session, period: Period) -> list[CountryRequests] | None:
    """Count the legal register's requests received in the period, per country."""
    figures = register_figures(session, since=period.since, until=period.until)
    return [
        CountryRequests(
            country=country.country,
            removal_requests_received=country.removal_received,
            removal_requests_actioned=country.removal_actioned,
            removal_requests_objected=country.removal_objected,
            data_requests_received=country.data_received,
            data_requests_disclosed=country.data_disclosed,
            data_requests_refused=country.data_refused,
            median_seconds_to_answer=None
            if country.median_hours_to_answer is None
            else round(country.median_hours_to_answer * 3600),
        )
        for country in figures.countries
    ]
