"""Web logins: passwords with lockout, server-side sessions, CSRF tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from tanggap.audit import service as audit
from tanggap.auth.models import Principal, WebSession
from tanggap.auth.passwords import (
    check_new_password,
    hash_password,
    one_time_password,
    verify_password,
)
from tanggap.auth.schemas import Caller
from tanggap.db.base import utcnow
from tanggap.errors import Conflict, InvalidInput

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=2)
SESSION_MAX = timedelta(hours=12)


# Compared against when the e-mail is unknown, so that both paths take as long.
@functools.cache
def _dummy_hash() -> str:
    # Hashed on the first failed lookup, not at import: every process (each CLI command
    # included) would pay an Argon2 hash it mostly never uses.
    return hash_password("no-such-account-placeholder")


@dataclass(frozen=True)
class WebLogin:
    """A signed-in browser: who it is, its CSRF token, whether it must change its password."""

    caller: Caller
    csrf_token: str
    must_change_password: bool
    language: str | None
    email: str


def require_free_email(*, session: Session, email: str) -> str:
    """Return ``email`` lower-cased; raise Conflict when an account already uses it."""
    email = email.strip().lower()
    taken = session.execute(
        select(Principal.id).where(func.lower(Principal.email) == email)
    ).first()
    if taken is not None:
        raise Conflict(f"{email} already has an account", field="email")
    return email


def grant_login(*, session: Session, principal: Principal) -> str:
    """Give ``principal`` a one-time password they must change at first login; return it."""
    password = one_time_password()
    principal.password_hash = hash_password(password)
    principal.must_change_password = True
    session.flush()
    return password


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoginRefused:
    """Why a login was refused: ``wrong`` (e-mail or password, not saying which) or ``locked``."""

    reason: str


def login(
    *,
    factory: sessionmaker[Session],
    email: str,
    password: str,
    roles: tuple[str, ...],
) -> tuple[str, WebLogin] | LoginRefused:
    """Check the password and open a session; return the cookie and the login, or the refusal.

    The slow password check runs outside any transaction (on SQLite a transaction holds the
    single write lock); the failure count is then updated under a row lock, so parallel guesses
    cannot slip past the lockout. A locked account and a wrong password look alike.
    """
    with factory() as session:
        found = session.execute(
            select(
                Principal.id, Principal.password_hash, Principal.role, Principal.disabled_at
            ).where(func.lower(Principal.email) == email.strip().lower())
        ).first()
    usable = (
        found is not None
        and found.password_hash is not None
        and found.role in roles
        and found.disabled_at is None
    )
    if not usable or found is None or found.password_hash is None:
        verify_password(_dummy_hash(), password)
        return LoginRefused("wrong")
    matches = verify_password(found.password_hash, password)
    with factory() as session, session.begin():
        principal = session.execute(
            select(Principal)
            .where(Principal.id == found.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
        now = utcnow()
        if principal.locked_until is not None and principal.locked_until > now:
            return LoginRefused("wrong")
        if not matches or principal.password_hash != found.password_hash:
            _count_failure(session, principal, now)
            return LoginRefused("wrong")
        principal.failed_logins = 0
        principal.locked_until = None
        principal.last_login_at = now
        cookie, record = _open_session(session, principal, now)
        audit.record(
            session=session,
            actor=f"web:{principal.id}",
            action="login.succeeded",
            subject_type="principal",
            subject_id=principal.id,
        )
        return cookie, _login_of(principal, record)


def _count_failure(session: Session, principal: Principal, now: datetime) -> None:
    principal.failed_logins += 1
    event = "login.failed"
    if principal.failed_logins >= MAX_FAILURES:
        principal.locked_until = now + LOCKOUT
        principal.failed_logins = 0
        event = "login.locked"
    audit.record(
        session=session,
        actor=f"web:{principal.id}",
        action=event,
        subject_type="principal",
        subject_id=principal.id,
    )


def _open_session(session: Session, principal: Principal, now: datetime) -> tuple[str, WebSession]:
    cookie = secrets.token_urlsafe(32)
    record = WebSession(
        id_hash=_digest(cookie),
        principal_id=principal.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_MAX,
        last_seen_at=now,
    )
    session.add(record)
    session.flush()
    return cookie, record


def _login_of(principal: Principal, record: WebSession) -> WebLogin:
    return WebLogin(
        caller=Caller(
            id=principal.id,
            role=principal.role,
            name=principal.name,
            org_id=principal.org_id,
        ),
        csrf_token=record.csrf_token,
        must_change_password=principal.must_change_password,
        language=principal.language,
        email=principal.email or "",
    )


def resume(*, session: Session, cookie: str) -> WebLogin | None:
    """Return the login behind a session cookie, or None when it is unknown or expired."""
    record = session.get(WebSession, _digest(cookie))
    now = utcnow()
    if record is None or record.expires_at <= now or record.last_seen_at + SESSION_IDLE <= now:
        return None
    principal = session.get(Principal, record.principal_id)
    if principal is None or principal.disabled_at is not None:
        return None
    if now - record.last_seen_at > timedelta(minutes=1):
        record.last_seen_at = now  # at most one write a minute per session
    return _login_of(principal, record)


def logout(*, session: Session, cookie: str) -> None:
    """End the session behind ``cookie``."""
    session.execute(delete(WebSession).where(WebSession.id_hash == _digest(cookie)))


def change_password(
    *, session: Session, caller: Caller, current: str, new: str, repeat: str
) -> str:
    """Replace the caller's password, end every other session; return this session's new cookie."""
    principal = session.execute(
        select(Principal)
        .where(Principal.id == caller.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if principal is None or principal.password_hash is None:
        raise InvalidInput("this account has no password", field="current")
    if not verify_password(principal.password_hash, current):
        raise InvalidInput("the current password is wrong", field="current")
    if new != repeat:
        raise InvalidInput("the two new passwords differ", field="repeat")
    if new == current:
        raise InvalidInput("choose a password different from the current one", field="new")
    try:
        check_new_password(new)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="new") from exc
    principal.password_hash = hash_password(new)
    principal.must_change_password = False
    # Whoever knew the old password (a one-time one included) is signed out everywhere.
    session.execute(delete(WebSession).where(WebSession.principal_id == principal.id))
    fresh, _ = _open_session(session, principal, utcnow())
    audit.record(
        session=session,
        actor=f"web:{principal.id}",
        action="password.changed",
        subject_type="principal",
        subject_id=principal.id,
    )
    return fresh


def set_language(*, session: Session, caller: Caller, language: str) -> None:
    """Remember the caller's portal language."""
    principal = session.get(Principal, caller.id)
    if principal is not None:
        principal.language = language
