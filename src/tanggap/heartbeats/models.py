"""The last round of each background job in each process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base


class JobHeartbeat(Base):
    """When a job last ran a round in a process, and when a round last succeeded there."""

    __tablename__ = "job_heartbeats"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    process: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_round_at: Mapped[datetime]
    last_ok_at: Mapped[datetime | None]
