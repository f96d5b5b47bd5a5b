"""Send the queued statements to the EU Transparency Database (API v1) in batches through the
outbox engine: ``POST /api/v1/statements`` with at most 100 a call, the Bearer token, and, for a
statement an earlier attempt may have delivered, ``GET /api/v1/statement/existing-puid/{puid}``
first (302: the database holds it; 404: send it)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from tanggap.audit import service as audit
from tanggap.config import Settings
from tanggap.eu_database.models import EuStatement
from tanggap.outbox import DeliveryFailed, DeliveryState, Sent, backoff

log = structlog.get_logger(__name__)
MAX_BATCH = 100  # the most statements the database takes in one call
BACKOFF_CAP = timedelta(hours=1)
ERROR_KEY = re.compile(r"^statements\.([0-9]+)\.(.+)$")
MAX_ERROR = 2000


@dataclass(frozen=True)
class EuDatabase:
    """Where the database is and the platform's token for it."""

    url: str
    token: str
    batch_size: int
    timeout_seconds: float
    retry_seconds: float


def eu_database_from(settings: Settings) -> EuDatabase | None:
    """Return the configured database, or None when statements are not submitted."""
    if not settings.eu_database_url or settings.eu_database_token is None:
        return None
    return EuDatabase(
        url=settings.eu_database_url.rstrip("/"),
        token=settings.eu_database_token.get_secret_value(),
        batch_size=settings.eu_database_batch_size,
        timeout_seconds=settings.eu_database_timeout_seconds,
        retry_seconds=settings.eu_database_retry_seconds,
    )


@dataclass(frozen=True)
class Outgoing:
    """One claimed statement: its id, its puid, the exact JSON, and whether to ask first."""

    id: uuid.UUID
    puid: str
    body: str
    ask_first: bool


@dataclass
class EuStatementDelivery:
    """The outbox kind of statements (see ``tanggap.outbox.engine``): sent in batches, retried
    with back-off until the database holds them or refuses them for good."""

    client: httpx.Client
    database: EuDatabase

    @property
    def model(self) -> type[EuStatement]:
        """The statements' outbox table."""
        return EuStatement

    @property
    def lease(self) -> timedelta:
        """Longer than a batch can take: a question per statement, then the batch."""
        calls = self.database.batch_size + 2
        return timedelta(seconds=self.database.timeout_seconds * calls + 60)

    def eligible(self) -> Sequence[ColumnElement[bool]]:
        """Every due statement, oldest first."""
        return ()

    def prepare(self, session: Session, rows: list[Any]) -> list[Outgoing]:
        """Each statement with its exact JSON."""
        return [Outgoing(row.id, row.puid, row.body, row.maybe_received) for row in rows]

    def send(self, item: Outgoing) -> Sent:
        """Send one statement (a batch of one)."""
        return self.send_batch([item])[0]

    def send_batch(self, items: list[Outgoing]) -> list[Sent]:
        """Ask about the statements an earlier attempt may have delivered, then send the others
        in one call; return one result per statement."""
        results: dict[int, Sent] = {}
        for index, item in enumerate(items):
            if item.ask_first and self._known(item.puid):
                results[index] = Sent(ok=True, status=302, answer={"known": True})
        waiting = [index for index in range(len(items)) if index not in results]
        if waiting:
            sent = self._post([items[index] for index in waiting])
            results.update(zip(waiting, sent, strict=True))
        return [results[index] for index in range(len(items))]

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.database.token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "Tanggap-EU-Statements/1",
        }

    def _known(self, puid: str) -> bool:
        """Ask whether the database holds ``puid`` (302) or not (404); anything else is a
        failed attempt of the whole batch."""
        answer = self.client.get(
            f"{self.database.url}/api/v1/statement/existing-puid/{puid}",
            headers=self._headers(),
            timeout=self.database.timeout_seconds,
            follow_redirects=False,
        )
        if answer.status_code in (302, 404):
            return answer.status_code == 302
        raise DeliveryFailed(
            f"existing-puid answered HTTP {answer.status_code}", retry_after=_wait(answer)
        )

    def _post(self, items: list[Outgoing]) -> list[Sent]:
        content = '{"statements":[' + ",".join(item.body for item in items) + "]}"
        started = time.perf_counter()
        try:
            answer = self.client.post(
                f"{self.database.url}/api/v1/statements",
                content=content.encode("utf-8"),
                headers=self._headers(),
                timeout=self.database.timeout_seconds,
            )
        except httpx.HTTPError as exc:  # the batch may have arrived: ask before sending again
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
            return [Sent(ok=False, error=error) for _ in items]
        took = int((time.perf_counter() - started) * 1000)
        status = answer.status_code
        if 200 <= status < 300:
            uuids = _uuids(answer)
            return [
                Sent(ok=True, status=status, duration_ms=took, answer={"uuid": uuids.get(i.puid)})
                for i in items
            ]
        if status == 422:
            return self._refused(items, answer, took)
        error = f"HTTP {status}: {answer.text[:500]}"
        clear = {"maybe_received": False}
        if status == 429:
            wait = _wait(answer)
            return [Sent(False, error, status, took, retry_after=wait, answer=clear) for _ in items]
        if status >= 500:
            return [Sent(ok=False, error=error, status=status, duration_ms=took) for _ in items]
        # Another 4xx (a wrong token, say): trying again cannot help.
        return [Sent(False, error, status, took, permanent=True, answer=clear) for _ in items]

    def _refused(self, items: list[Outgoing], answer: httpx.Response, took: int) -> list[Sent]:
        """A 422 refuses the whole call: the statements it names are refused for good (unless
        the only complaint is a puid the database holds already), the others go again."""
        errors = _errors(answer, len(items))
        if errors is None:
            error = f"HTTP 422: {answer.text[:500]}"
            return [Sent(False, error, 422, took, permanent=True) for _ in items]
        results = []
        for index, item in enumerate(items):
            refused = errors.get(index)
            if refused is None:
                error = "sent again: another statement of its batch was refused"
                results.append(Sent(False, error, 422, took, answer={"maybe_received": False}))
            elif set(refused) == {"puid"} and self._known(item.puid):
                results.append(Sent(ok=True, status=302, duration_ms=took, answer={"known": True}))
            else:
                error = "; ".join(f"{field}: {' '.join(why)}" for field, why in refused.items())
                results.append(
                    Sent(
                        False,
                        error[:MAX_ERROR],
                        422,
                        took,
                        permanent=True,
                        answer={"errors": refused, "maybe_received": False},
                    )
                )
        return results

    def retry_at(self, row: Any, now: datetime) -> datetime | None:
        """Doubling waits from the retry interval, up to an hour; never given up (the
        obligation stays), except on a refusal."""
        return now + backoff(row.attempts, self.database.retry_seconds, BACKOFF_CAP)

    def delivered(self, session: Session, row: Any, sent: Sent, now: datetime) -> None:
        """Keep the database's id of the statement."""
        row.last_status = sent.status
        row.maybe_received = False
        row.eu_uuid = (sent.answer or {}).get("uuid") or row.eu_uuid

    def failed(self, session: Session, row: Any, sent: Sent, now: datetime) -> None:
        """Remember whether the database may hold it; keep the database's reasons on a
        refusal."""
        answer = sent.answer or {}
        row.last_status = sent.status
        row.maybe_received = bool(answer.get("maybe_received", True))
        if row.state != DeliveryState.FAILED:
            return
        row.refused_by = "eu_database"
        row.refusals = answer.get("errors")
        audit.record(
            session=session,
            actor=audit.SYSTEM_ACTOR,
            action="eu_statement.refused",
            subject_type="decision",
            subject_id=row.decision_id,
            data={"puid": row.puid, "refused_by": "eu_database", "status": sent.status},
        )
        log.warning("eu_statement.refused", puid=row.puid, error=sent.error)

    def counted(self, item: Outgoing, sent: Sent) -> None:
        """Statements have no metric of their own (the admin list counts)."""


def _wait(answer: httpx.Response) -> float | None:
    try:
        return max(0.0, float(answer.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _uuids(answer: httpx.Response) -> dict[str, str]:
    """The database's ids of the statements it took, by puid (none when it said nothing)."""
    try:
        stored = answer.json().get("statements") or []
        return {str(s["puid"]): str(s["uuid"]) for s in stored if "puid" in s and "uuid" in s}
    except (ValueError, AttributeError, TypeError):
        return {}


def _errors(answer: httpx.Response, count: int) -> dict[int, dict[str, list[str]]] | None:
    """The refused fields of each statement of the call (by position), or None when the
    answer names no statement's field."""
    try:
        named = answer.json().get("errors")
    except (ValueError, AttributeError):
        return None
    if not isinstance(named, dict):
        return None
    found: dict[int, dict[str, list[str]]] = {}
    for key, messages in named.items():
        match = ERROR_KEY.match(str(key))
        if match is not None:
            index, field = int(match.group(1)), match.group(2)
        elif count == 1 and key != "statements":
            index, field = 0, str(key)
        else:
            continue
        if index < count:
            why = messages if isinstance(messages, list) else [messages]
            found.setdefault(index, {}).setdefault(field, []).extend(map(str, why))
    return found or None
