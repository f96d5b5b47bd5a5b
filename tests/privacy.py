"""What a flagger may ever read: an explicit allow-list of field paths, and a walker."""

from __future__ import annotations

import csv
import io
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


def listed(name: str, fields: set[str]) -> set[str]:
    """Return the paths of a list ``name`` of objects with ``fields``."""
    return {name} | prefixed(f"{name}[]", fields)


# The public transparency report: counts, shares and durations, by country, category, source,
# outcome or method; never a person, an organisation or a post.
CATEGORY = {"category", "dsa_category"}
COUNTED = {"outcome", "count"}
TRANSPARENCY = (
    {"since", "until"}
    | prefixed("orders_to_act", {
        "received", "given_effect", "median_seconds_to_confirm", "median_seconds_to_effect",
    } | listed("by_member_state", {
        "country", "received", "given_effect", "median_seconds_to_effect",
    }) | listed("by_category", CATEGORY | {"received", "given_effect"}))
    | prefixed("government_requests", {"available"} | listed("countries", {
        "country", "removal_requests_received", "removal_requests_actioned",
        "removal_requests_objected", "data_requests_received", "data_requests_disclosed",
        "data_requests_refused", "median_seconds_to_answer",
    }))
    | prefixed("notices", {
        "received", "settled_by_automated_decision", "median_seconds_to_action",
    } | listed("by_source", {
        "source", "received", "actioned", "declined", "objected", "pending",
        "median_seconds_to_action",
    }) | listed("by_category", CATEGORY | {"source", "received", "actioned"})
    | listed("actions", COUNTED))
    | prefixed("own_initiative", {"cases", "decided_automatically"}
    | listed("by_category", CATEGORY | {"count"}) | listed("by_restriction", COUNTED)
    | listed("by_detection_method", {"method", "count"}))
    | prefixed("complaints", {
        "received", "upheld", "reversed", "pending", "median_seconds_to_decide",
        "channel_bans", "member_bans",
    })
    | prefixed("automation", {
        "decisions", "fully_automated", "fully_automated_share", "automated_detections",
        "automated_reversed_on_appeal", "automated_reversal_rate",
    })
    | prefixed("terrorist_content", {
        "removal_orders_received", "removal_orders_acted_within_deadline", "deadline_seconds",
        "items_removed_or_disabled", "complaints", "complaints_upheld", "complaints_reversed",
        "items_restored_after_complaint",
    })
    | listed("clocks", {
        "clock", "source", "deadline_seconds", "decided", "within_deadline",
        "within_deadline_share",
    })
)  # fmt: skip
# The CSV's columns: one row per figure.
TRANSPARENCY_CSV = {"section", "measure", "dimensions", "value"}


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
    "GET /v1/transparency": TRANSPARENCY,
    "GET /v1/transparency.csv": TRANSPARENCY_CSV,
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


def csv_columns(text: str) -> set[str]:
    """Return the columns a CSV answer names in its first row."""
    return set(next(csv.reader(io.StringIO(text)), []))


def leaks(value: Any, secrets: set[str]) -> set[str]:
    """Return the forbidden values (pseudonyms, reviewer ids and names…) found in ``value``."""
    text = str(value)
    return {s for s in secrets if s and s in text}
