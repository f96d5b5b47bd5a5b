"""Bulk intake: many reports in one transaction, every line judged on its own."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from tanggap.auth.schemas import Caller
from tanggap.errors import TanggapError
from tanggap.notify.port import Notifier
from tanggap.policy.schemas import Policy
from tanggap.reports import service
from tanggap.reports.schemas import BulkLine, ReportIn
from tanggap.validation import validation_details


def submit_many(
    *,
    session: Session,
    caller: Caller,
    lines: list[Any],
    policy: Policy,
    secret_key: str,
    notifier: Notifier,
) -> list[BulkLine]:
    """Accept every valid line; answer each line's fate, in input order."""
    results = []
    for index, line in enumerate(lines):
        results.append(_one(session, caller, index, line, policy, secret_key, notifier))
    return results


def _one(
    session: Session,
    caller: Caller,
    index: int,
    line: Any,
    policy: Policy,
    secret_key: str,
    notifier: Notifier,
) -> BulkLine:
    if not isinstance(line, dict):
        return BulkLine(index=index, status="invalid", error="a line must be a JSON object")
    try:
        data = ReportIn.model_validate(line)
    except ValidationError as exc:
        first = validation_details([dict(e) for e in exc.errors()])[0]
        error = f"{first['field']}: {first['message']}"
        return BulkLine(index=index, status="invalid", error=error)
    try:
        # A savepoint per line: a line that fails half-way leaves nothing behind.
        with session.begin_nested():
            intake = service.submit(
                session=session,
                caller=caller,
                data=data,
                policy=policy,
                secret_key=secret_key,
                notifier=notifier,
            )
    except TanggapError as exc:
        message = f"{exc.field}: {exc.message}" if exc.field else exc.message
        if exc.code == "unknown_post":
            return BulkLine(index=index, status="unknown_post", error=message)
        return BulkLine(index=index, status="invalid", error=message)
    report = intake.report
    return BulkLine(
        index=index,
        status="duplicate" if intake.duplicate else "accepted",
        report_id=report.id,
        case_id=report.case_id,
        deadline=report.deadline,
    )
