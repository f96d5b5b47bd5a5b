"""Appeals: a post's owner asks for a decision to be looked at again."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from tanggap.db.base import Base, StrEnumType, new_id, utcnow


class AppealState(StrEnum):
    """An appeal waits for a reviewer, then the decision is upheld or reversed."""

    OPEN = "open"
    UPHELD = "upheld"
    REVERSED = "reversed"


class Appeal(Base):
    """One appeal against one decision; decided by someone other than the decision's author."""

    __tablename__ = "appeals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    appealed_decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decisions.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    filed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("principals.id"))
    state: Mapped[AppealState] = mapped_column(
        StrEnumType(AppealState, 16), default=AppealState.OPEN
    )
    filed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # reports' periods
    deadline: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("decisions.id"))
