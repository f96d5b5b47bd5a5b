"""Bulk intake: many reports in one transaction, every line judged on its own, written together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.auth.schemas import Caller
from tanggap.errors import TanggapError
from tanggap.notify.port import Notifier
from tanggap.policy.schemas import Policy
from tanggap.pseudonyms import Keyring
from tanggap.reports import intake
from tanggap.reports.models import Report
from tanggap.reports.schemas import BulkLine, ReportIn
from tanggap.validation import validation_details


@dataclass(frozen=True)
class Submitted:
    """Every line's fate, in input order, and the reports accepted (for the edge's counters)."""

    lines: list[BulkLine]
    accepted: list[ReportIn]


def submit_many(
    *,
    session: Session,
    caller: Caller,
    lines: list[Any],
    policy: Policy,
    keyring: Keyring,
    notifier: Notifier,
) -> Submitted:
    """Accept every valid line; answer each line's fate, in input order.

    The channels, posts, cases and open duplicates of all lines are read in four queries, each
    line is then judged as a single report would be (every check before its first change, so a
    refused line leaves nothing behind), and the reports, cases, audit events and webhooks of the
    batch are written at the end in one multi-row insert per table."""
    intake.source_of(caller)
    parsed = [_parse(index, line) for index, line in enumerate(lines)]
    known = intake.read_targets(
        session=session,
        caller=caller,
        reports=[data for data in parsed if isinstance(data, ReportIn)],
        keyring=keyring,
    )
    with audit.batched(session):  # the batch's events in one statement
        return _judge_each(session, caller, parsed, known, policy, keyring, notifier)


def _judge_each(
    session: Session,
    caller: Caller,
    parsed: list[ReportIn | BulkLine],
    known: intake.Known,
    policy: Policy,
    keyring: Keyring,
    notifier: Notifier,
) -> Submitted:
    results: list[BulkLine] = []
    received: list[Report] = []
    accepted: list[ReportIn] = []
    held = intake.Held()
    for index, data in enumerate(parsed):
        if isinstance(data, BulkLine):
            results.append(data)
            continue
        try:
            taken = intake.accept(
                session=session,
                caller=caller,
                data=data,
                policy=policy,
                keyring=keyring,
                known=known,
                held=held,
            )
        except TanggapError as exc:
            message = f"{exc.field}: {exc.message}" if exc.field else exc.message
            if exc.code == "unknown_post":
                results.append(BulkLine(index=index, status="unknown_post", error=message))
            else:
                results.append(BulkLine(index=index, status="invalid", error=message))
            continue
        if not taken.duplicate:
            received.append(taken.report)
            accepted.append(data)
        results.append(
            BulkLine(
                index=index,
                status="duplicate" if taken.duplicate else "accepted",
                report_id=taken.report.id,
                case_id=taken.report.case_id,
                deadline=taken.report.deadline,
            )
        )
    intake.insert_held(session, held)
    intake.notify_received(notifier, session, received)
    session.flush()
    return Submitted(lines=results, accepted=accepted)


def _parse(index: int, line: Any) -> ReportIn | BulkLine:
    if not isinstance(line, dict):
        return BulkLine(index=index, status="invalid", error="a line must be a JSON object")
    try:
        return ReportIn.model_validate(line)
    except ValidationError as exc:
        first = validation_details([dict(e) for e in exc.errors()])[0]
        return BulkLine(
            index=index, status="invalid", error=f"{first['field']}: {first['message']}"
        )
