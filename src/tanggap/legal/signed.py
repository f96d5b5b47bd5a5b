"""Store and read back the signed instruction a granted data request produces."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from tanggap.errors import NotFound
from tanggap.legal import instruction
from tanggap.legal.models import LegalInstruction, LegalRequest
from tanggap.legal.schemas import InstructionOut


@dataclass(frozen=True)
class Recorded:
    """What the audit trail says of an instruction: its digest and the key that signed it."""

    sha256: str
    key_id: str


def record_instruction(
    *, session: Session, request: LegalRequest, key: Ed25519PrivateKey
) -> Recorded:
    """Sign and store the instruction naming the request's pseudonyms."""
    assert request.decided_at is not None
    document = instruction.build(
        request_id=str(request.id),
        country=request.country,
        authority=request.authority,
        reference=request.reference,
        legal_basis=request.legal_basis,
        pseudonyms=list(request.scope.get("pseudonyms", [])),
        granted_at=request.decided_at,
    )
    canonical, signature, key_id = instruction.sign(key, document)
    session.add(
        LegalInstruction(
            request_id=request.id,
            document=canonical,
            signature=signature,
            key_id=key_id,
            signed_at=request.decided_at,
        )
    )
    return Recorded(sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(), key_id=key_id)


def instruction_of(*, session: Session, request_id: uuid.UUID) -> InstructionOut:
    """Return the signed instruction of a granted request, or raise NotFound."""
    found = session.get(LegalInstruction, request_id)
    if found is None:
        raise NotFound(f"request {request_id} has no signed instruction", field="request_id")
    return InstructionOut(
        document=json.loads(found.document),
        canonical=found.document,
        signature=found.signature,
        key_id=found.key_id,
        signed_at=found.signed_at,
    )
