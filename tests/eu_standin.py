"""A stand-in of the EU Transparency Database's API (v1) on 127.0.0.1: it checks the Bearer
token, validates every statement by its own rules (422 with ``{"message", "errors"}`` per field,
``statements.<n>.<field>``), refuses a puid it holds, takes at most 100 statements a call, and
answers ``existing-puid`` with 302 or 404. A test can make it fail after storing a batch (answer
500, or drop the connection) or before (any status), and can drop a keyword from what it takes."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "eu-test-token-0123456789"
MOST_A_CALL = 100
GROUNDS = {"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
VISIBILITY = {
    f"DECISION_VISIBILITY_{v}"
    for v in [
        "CONTENT_REMOVED",
        "CONTENT_DISABLED",
        "CONTENT_DEMOTED",
        "CONTENT_AGE_RESTRICTED",
        "CONTENT_INTERACTION_RESTRICTED",
        "CONTENT_LABELLED",
        "OTHER",
    ]
}
ACCOUNT = {"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"}
CONTENT_TYPES = {
    f"CONTENT_TYPE_{v}"
    for v in ["APP", "AUDIO", "IMAGE", "PRODUCT", "SYNTHETIC_MEDIA", "TEXT", "VIDEO", "OTHER"]
}
CATEGORIES = {
    f"STATEMENT_CATEGORY_{v}"
    for v in [
        "ANIMAL_WELFARE",
        "CONSUMER_INFORMATION",
        "CYBER_VIOLENCE",
        "CYBER_VIOLENCE_AGAINST_WOMEN",
        "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        "ILLEGAL_OR_HARMFUL_SPEECH",
        "INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        "NOT_SPECIFIED_NOTICE",
        "OTHER_VIOLATION_TC",
        "PROTECTION_OF_MINORS",
        "RISK_FOR_PUBLIC_SECURITY",
        "SCAMS_AND_FRAUD",
        "SELF_HARM",
        "UNSAFE_AND_PROHIBITED_PRODUCTS",
        "VIOLENCE",
    ]
}
# The keywords the tests' policy uses, and a few more; a test may drop one.
KEYWORDS = {
    f"KEYWORD_{v}"
    for v in [
        "TERRORIST_CONTENT",
        "CHILD_SEXUAL_ABUSE_MATERIAL",
        "PROHIBITED_PRODUCTS",
        "PHISHING",
        "GOODS_SERVICES_NOT_PERMITTED",
        "HATE_SPEECH",
        "INCITEMENT_VIOLENCE_HATRED",
        "MISINFORMATION_DISINFORMATION",
        "UNSAFE_PRODUCTS",
        "NUDITY",
        "OTHER",
    ]
}
SOURCES = {
    "SOURCE_ARTICLE_16",
    "SOURCE_TRUSTED_FLAGGER",
    "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_VOLUNTARY",
}
AUTOMATED = {
    "AUTOMATED_DECISION_FULLY",
    "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
}
EEA = set(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "IS",
        "LI",
        "NO",
    ]
)
PUID = re.compile(r"^[A-Za-z0-9_-]{1,500}$")


def _required(name: str) -> str:
    return f"The {name.replace('_', ' ')} field is required."


def _invalid(name: str) -> str:
    return f"The selected {name.replace('_', ' ')} is invalid."


def _date_errors(name: str, value: Any, first: int) -> list[str]:
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    if day is None:
        return [f"The {name.replace('_', ' ')} field must match the format Y-m-d."]
    if not first <= day.year <= 2038:
        return [f"The {name.replace('_', ' ')} must be a date between {first} and 2038."]
    return []


@dataclass
class Database:
    """What the stand-in holds and how it was called."""

    url: str = ""
    token: str = TOKEN
    keywords: set[str] = field(default_factory=lambda: set(KEYWORDS))
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)  # by puid
    posts: list[int] = field(default_factory=list)  # statements per POST call
    asked: list[str] = field(default_factory=list)  # puids asked about
    # Answers to come: ("before", status) answers without storing; ("after", "500" or "drop")
    # stores the batch, then answers 500 or closes the connection.
    script: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def errors_of(self, statement: Any) -> dict[str, list[str]]:
        """The database's complaints about one statement, by field."""
        if not isinstance(statement, dict):
            return {"statement": ["The statement must be an object."]}
        s, errors = statement, {}

        def complain(name: str, message: str) -> None:
            errors.setdefault(name, []).append(message)

        for name in (
            "decision_ground", "content_type", "category", "content_date", "application_date",
            "decision_facts", "source_type", "automated_detection", "automated_decision", "puid",
        ):  # fmt: skip
            if s.get(name) in (None, "", []):
                complain(name, _required(name))
        decisions = ("decision_visibility", "decision_monetary", "decision_provision")
        if not any(s.get(name) for name in (*decisions, "decision_account")):
            complain("decision_visibility", _required("decision_visibility"))
        for name, allowed in (
            ("decision_ground", GROUNDS), ("category", CATEGORIES), ("source_type", SOURCES),
            ("automated_decision", AUTOMATED), ("automated_detection", {"Yes", "No"}),
            ("decision_account", ACCOUNT),
        ):  # fmt: skip
            if s.get(name) is not None and s.get(name) not in allowed:
                complain(name, _invalid(name))
        for name, allowed in (
            ("decision_visibility", VISIBILITY), ("content_type", CONTENT_TYPES),
            ("category_specification", self.keywords), ("territorial_scope", EEA),
        ):  # fmt: skip
            value = s.get(name)
            if value is not None and (
                not isinstance(value, list) or any(v not in allowed for v in value)
            ):
                complain(name, _invalid(name))
        ground = s.get("decision_ground")
        prefix = "illegal_content" if ground == "DECISION_GROUND_ILLEGAL_CONTENT" else None
        if ground == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
            prefix = "incompatible_content"
        if prefix is not None:
            ground_field = f"{prefix}_legal_ground" if prefix == "illegal_content" else None
            for name, most in (
                (ground_field or f"{prefix}_ground", 500),
                (f"{prefix}_explanation", 2000),
            ):
                if not s.get(name):
                    complain(name, _required(name))
                elif len(str(s[name])) > most:
                    complain(name, f"The {name.replace('_', ' ')} may not be greater than {most}.")
        if len(str(s.get("decision_facts", ""))) > 5000:
            complain("decision_facts", "The decision facts may not be greater than 5000.")
        language = s.get("content_language")
        if language is not None and not re.fullmatch(r"[A-Z]{2}", str(language)):
            complain("content_language", _invalid("content_language"))
        for name, first in (("content_date", 2000), ("application_date", 2020)):
            if s.get(name) not in (None, ""):
                for message in _date_errors(name, s[name], first):
                    complain(name, message)
        puid = s.get("puid")
        if puid and not PUID.fullmatch(str(puid)):
            complain("puid", "The puid format is invalid.")
        elif puid in self.stored:
            complain("puid", "The identifier given is not unique within this platform.")
        return errors

    def take(self, payload: Any) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
        """Validate a call; return the status, the answer and the statements to store."""
        statements = payload.get("statements") if isinstance(payload, dict) else None
        if not isinstance(statements, list) or not statements:
            return 422, _refusal({"statements": [_required("statements")]}), []
        if len(statements) > MOST_A_CALL:
            message = f"The statements field must not have more than {MOST_A_CALL} items."
            return 422, _refusal({"statements": [message]}), []
        errors: dict[str, list[str]] = {}
        seen: set[str] = set()
        for index, statement in enumerate(statements):
            found = self.errors_of(statement)
            puid = statement.get("puid") if isinstance(statement, dict) else None
            if puid in seen:
                found.setdefault("puid", []).append("The puid is given twice in this call.")
            seen.add(str(puid))
            for name, messages in found.items():
                errors[f"statements.{index}.{name}"] = messages
        if errors:
            return 422, _refusal(errors), []
        kept = [{**s, "uuid": str(uuid.uuid4())} for s in statements]
        return 201, {"statements": kept}, kept


def _refusal(errors: dict[str, list[str]]) -> dict[str, Any]:
    first = next(iter(errors.values()))[0]
    more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
    return {"message": first + more, "errors": errors}


@contextmanager
def serve() -> Iterator[Database]:
    """Run the stand-in on a free loopback port."""
    database = Database()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any] | None, **headers: str) -> None:
            content = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {database.token}":
                return True
            self._answer(401, {"message": "Unauthenticated."})
            return False

        def do_GET(self) -> None:
            if not self._authorised():
                return
            prefix = "/api/v1/statement/existing-puid/"
            if not self.path.startswith(prefix):
                self._answer(404, {"message": "Not Found"})
                return
            puid = self.path[len(prefix) :]
            with database.lock:
                database.asked.append(puid)
                held = database.stored.get(puid)
            if held is None:
                self._answer(404, {"message": "statement of reason not found"})
            else:
                self._answer(302, None, Location=f"/api/v1/statement/{held['uuid']}")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not self._authorised():
                return
            if self.path != "/api/v1/statements":
                self._answer(404, {"message": "Not Found"})
                return
            with database.lock:
                when, what = database.script.pop(0) if database.script else ("", "")
                if when == "before":
                    self._answer(int(what), {"message": "try again later"})
                    return
                try:
                    payload = json.loads(body)
                except ValueError:
                    self._answer(400, {"message": "not JSON"})
                    return
                count = len(payload.get("statements") or []) if isinstance(payload, dict) else 0
                database.posts.append(count)
                status, answer, kept = database.take(payload)
                database.stored.update({s["puid"]: s for s in kept})
            if when == "after" and what == "drop":
                self.close_connection = True
                return  # stored, and no answer at all
            if when == "after":
                self._answer(500, {"message": "Server Error"})
                return
            self._answer(status, answer)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    database.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield database
    finally:
        server.shutdown()
        server.server_close()
