"""What the API says about principals."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

Role = Literal["platform", "flagger", "reviewer", "lead", "admin", "legal"]
ROLES: tuple[Role, ...] = ("platform", "flagger", "reviewer", "lead", "admin", "legal")
STAFF_ROLES: frozenset[str] = frozenset({"reviewer", "lead", "admin"})
LEAD_ROLES: frozenset[str] = frozenset({"lead", "admin"})
# Who answers authorities' requests (the legal register): legal officers, and admins.
LEGAL_ROLES: frozenset[str] = frozenset({"legal", "admin"})
# The roles whose principals are people with a console login (and may hold a token of it).
ACCOUNT_ROLES: frozenset[str] = STAFF_ROLES | {"legal"}


@dataclass(frozen=True)
class Caller:
    """The authenticated principal of a request, detached from the ORM."""

    id: uuid.UUID
    role: Role
    name: str
    org_id: uuid.UUID | None

    @property
    def is_staff(self) -> bool:
        """Tell whether the caller works for the platform's trust-and-safety team."""
        return self.role in STAFF_ROLES

    @property
    def audit_actor(self) -> str:
        """Return how the audit trail names this caller."""
        return f"{self.role}:{self.id}"
