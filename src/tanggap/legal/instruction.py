"""The signed instruction to the platform: a JSON document naming the pseudonyms a granted
request covers, signed with Ed25519 under the audit checkpoint key (``tanggap audit key``
prints its public half). Tanggap holds no user ids: only the platform can resolve them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tanggap.audit.chain import canonical_json
from tanggap.audit.signing import key_id, public_hex

DOCUMENT_TYPE = "tanggap.legal.instruction"


def build(
    *,
    request_id: str,
    country: str,
    authority: str,
    reference: str,
    legal_basis: str,
    pseudonyms: list[str],
    granted_at: datetime,
) -> dict[str, Any]:
    """Return the instruction document of a granted data request."""
    return {
        "type": DOCUMENT_TYPE,
        "version": 1,
        "request_id": request_id,
        "country": country,
        "authority": authority,
        "reference": reference,
        "legal_basis": legal_basis,
        "pseudonyms": sorted(pseudonyms),
        "granted_at": granted_at.isoformat(timespec="microseconds"),
    }


def sign(key: Ed25519PrivateKey, document: dict[str, Any]) -> tuple[str, str, str]:
    """Sign ``document``; return its canonical JSON, the signature (hex) and the key's id."""
    canonical = canonical_json(document)
    signature = key.sign(canonical.encode("utf-8")).hex()
    return canonical, signature, key_id(public_hex(key))


def holds(public_key_hex: str, canonical: str, signature_hex: str) -> bool:
    """Tell whether ``signature_hex`` is the key's signature of the canonical document."""
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        public.verify(bytes.fromhex(signature_hex), canonical.encode("utf-8"))
    except (ValueError, InvalidSignature):
        return False
    return canonical_json(json.loads(canonical)) == canonical
