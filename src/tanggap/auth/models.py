"""Principals (who acts) and their API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.auth.schemas import Role
from tanggap.db.base import Base, new_id, utcnow

NAME_LENGTH = 200


class Principal(Base):
    """Someone or something that calls Tanggap: a platform, a flagger, a reviewer, an admin."""

    __tablename__ = "principals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    role: Mapped[Role] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("flagger_orgs.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    # Web login (flagger portal, review console); API-only principals have no password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(8))
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]
    # A reviewer who paused is not handed cases ("next case" refuses) until they resume.
    paused_at: Mapped[datetime | None]


class ApiToken(Base):
    """A bearer token; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    principal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("principals.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    """A logged-in browser; only the SHA-256 of its cookie is kept."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("principals.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
