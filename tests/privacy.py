"""What a flagger may ever read: an explicit allow-list of field paths, and a walker."""

from __future__ import annotations

from typing import Any

from tanggap.reports.schemas import REPORT_STATUSES

REPORT = {
    "report_id", "case_id", "status", "category", "order_type", "legal_basis",
    "issuing_authority", "note", "target", "target.channel", "target.message_id", "target.url",
    "received_at", "deadline", "time_left_seconds", "decided_at", "time_to_action_seconds",
    "within_deadline", "objection", "unread_messages", "outcome", "countries", "countries[]",
    "ground", "policy_ref", "explanation",
}  # fmt: skip
MESSAGE = {
    "message_id", "author_role", "kind", "body", "created_at", "read_by_flagger_at",
    "read_by_platform_at",
}  # fmt: skip


def prefixed(prefix: str, fields: set[str]) -> set[str]:
    """Return ``fields`` under ``prefix``."""
    return {prefix} | {f"{prefix}.{f}" for f in fields}


# A signed checkpoint of the audit log: a sequence number, hashes, a key, a signature.
CHECKPOINT = {"seq", "hash", "signed_at", "key_id", "public_key", "signature"}
WEBHOOK = (
    {"event_id", "event", "occurred_at", "report"}
    | prefixed("checkpoint", CHECKPOINT)
    | {f"report.{f}" for f in REPORT - {"unread_messages"}}
    | {f"message.{f}" for f in MESSAGE - {"read_by_flagger_at", "read_by_platform_at"}}
    | {"message"}
)


# Response field paths per flagger-reachable route ("[]" marks list items).
ALLOWED: dict[str, set[str]] = {
    "POST /v1/reports": {"report_id", "case_id", "status", "deadline", "duplicate"},
    "POST /v1/reports/bulk": prefixed(
        "results[]", {"index", "status", "report_id", "case_id", "deadline", "error"}
    )
    | {"results"},
    "GET /v1/reports": prefixed("reports[]", REPORT) | {"reports", "total", "limit", "offset"},
    "GET /v1/reports/{report_id}": REPORT,
    "GET /v1/reports/{report_id}/messages": prefixed("messages[]", MESSAGE)
    | {"report_id", "messages"},
    "POST /v1/reports/{report_id}/messages": MESSAGE,
    "GET /v1/flaggers/me/stats": {
        "since",
        "until",
        "total",
        "by_status",
        "open_overdue",
        "median_time_to_action_seconds",
        "p95_time_to_action_seconds",
        "within_deadline_share",
        "within_deadline",
        "past_deadline",
    }
    | {f"by_status.{s}" for s in REPORT_STATUSES},
    "GET /healthz": {"status"},
    "GET /readyz": {"status", "database"},
    "GET /v1/audit/checkpoints": {f"[].{f}" for f in CHECKPOINT},
}


def paths(value: Any, prefix: str = "") -> set[str]:
    """Return every key path in a JSON value."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            found.add(path)
            found |= paths(inner, path)
    elif isinstance(value, list):
        for inner in value:
            found |= paths(inner, f"{prefix}[]")
    return found


def leaks(value: Any, secrets: set[str]) -> set[str]:
    """Return the forbidden values (pseudonyms, reviewer ids and names…) found in ``value``."""
    text = str(value)
    return {s for s in secrets if s and s in text}
