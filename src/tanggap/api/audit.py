"""HTTP: the audit log's signed checkpoints, public, so that anyone can keep a copy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from tanggap.audit import service as audit
from tanggap.http.deps import SessionDep

router = APIRouter(prefix="/v1/audit", tags=["audit"])


class CheckpointOut(BaseModel):
    """The audit chain's head at one moment, signed with the checkpoint key (Ed25519)."""

    seq: int = Field(description="The newest sealed event the checkpoint covers.")
    hash: str = Field(description="That event's chain hash (SHA-256, hex).")
    signed_at: datetime
    key_id: str = Field(description="The first 16 hex digits of the public key's SHA-256.")
    public_key: str = Field(description="The Ed25519 public key, 64 hex digits.")
    signature: str = Field(
        description="Ed25519 signature (hex) of the canonical JSON of seq, hash and signed_at."
    )


@router.get("/checkpoints", response_model=list[CheckpointOut])
def list_checkpoints(
    session: SessionDep,
    after: Annotated[
        int, Query(ge=0, le=2**62, description="Only checkpoints past this event.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[CheckpointOut]:
    """The signed checkpoints of the audit log, oldest first; open to anyone. Check them with
    the key `tanggap audit key` prints, and keep them: a later rewrite of the log cannot match."""
    return [
        CheckpointOut(**c.as_json())
        for c in audit.checkpoints(session=session, after=after, limit=limit)
    ]
