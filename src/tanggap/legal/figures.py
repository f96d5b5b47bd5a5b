"""The register's figures for the transparency report (EU DSA Art. 15(1)(a): orders to act
and orders to provide information), per country and in total."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.legal.links import link_outcomes
from tanggap.legal.models import LegalRequest, RequestKind, RequestState

ALL_COUNTRIES = "all"


@dataclass(frozen=True)
class CountryFigures:
    """One country's requests (or all of them): removal and data requests, how each ended."""

    country: str
    removal_received: int
    # At least one of its reports ended in a decision that removed or restricted.
    removal_actioned: int
    # None actioned, and at least one objected to or declined after review.
    removal_objected: int
    data_received: int
    data_disclosed: int
    data_refused: int
    # From receipt to the answer (granted, refused or answered), over every kind; None when
    # no request of the period was answered yet.
    median_hours_to_answer: float | None


@dataclass(frozen=True)
class RegisterFigures:
    """The figures of the requests received in ``[since, until)``."""

    since: datetime
    until: datetime
    countries: tuple[CountryFigures, ...]
    total: CountryFigures


@dataclass
class _Tally:
    removal_received: int = 0
    removal_actioned: int = 0
    removal_objected: int = 0
    data_received: int = 0
    data_disclosed: int = 0
    data_refused: int = 0

    def add(self, other: _Tally) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _tally(session: Session, request: LegalRequest) -> _Tally:
    tally = _Tally()
    if request.kind == RequestKind.USER_DATA:
        tally.data_received = 1
        tally.data_disclosed = int(request.state == RequestState.GRANTED)
        tally.data_refused = int(request.state == RequestState.REFUSED)
    elif request.kind == RequestKind.CONTENT_REMOVAL:
        outcomes = {link.outcome for link in link_outcomes(session=session, request=request)}
        tally.removal_received = 1
        tally.removal_actioned = int("actioned" in outcomes)
        tally.removal_objected = int(
            "actioned" not in outcomes and bool(outcomes & {"objected", "declined"})
        )
    return tally


def _figures(country: str, tally: _Tally, hours: list[float]) -> CountryFigures:
    return CountryFigures(
        country=country,
        median_hours_to_answer=median(hours) if hours else None,
        **vars(tally),
    )


def register_figures(session: Session, *, since: datetime, until: datetime) -> RegisterFigures:
    """Count the requests received in ``[since, until)`` per country and in total."""
    requests = session.execute(
        select(LegalRequest)
        .where(LegalRequest.received_at >= since)
        .where(LegalRequest.received_at < until)
        .order_by(LegalRequest.country, LegalRequest.received_at)
    ).scalars()
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    hours: dict[str, list[float]] = defaultdict(list)
    for request in requests:
        tallies[request.country].add(_tally(session, request))
        if request.decided_at is not None:
            waited = (request.decided_at - request.received_at).total_seconds() / 3600
            hours[request.country].append(waited)
    total = _Tally()
    for tally in tallies.values():
        total.add(tally)
    return RegisterFigures(
        since=since,
        until=until,
        countries=tuple(
            _figures(country, tallies[country], hours[country]) for country in sorted(tallies)
        ),
        total=_figures(ALL_COUNTRIES, total, [h for c in sorted(hours) for h in hours[c]]),
    )
