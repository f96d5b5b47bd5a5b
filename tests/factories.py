"""Build the people and posts tests need, through the same services the product uses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tanggap.auth import service as auth
from tanggap.auth.schemas import STAFF_ROLES, Caller, Role
from tanggap.flaggers import service as flaggers
from tanggap.flaggers.schemas import FlaggerOrgIn
from tanggap.posts import service as posts
from tanggap.posts.schemas import PostIn
from tanggap.reports import intake as reports
from tanggap.reports.schemas import ReportIn
from tanggap.review import team, triage
from tanggap.reviewers import service as reviewers
from tanggap.reviewers.models import ReviewerClearance, ReviewerLanguage
from tanggap.reviewers.schemas import ReviewerIn
from tanggap.runtime import Runtime
from tanggap.tables import Base

POSTED_AT = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)


@dataclass
class Tokens:
    """Bearer tokens for every kind of caller, two flagger organisations, two reviewers."""

    platform: str
    flagger: str
    flagger_other_org: str
    reviewer: str
    reviewer2: str
    admin: str


def make_org(runtime: Runtime, name: str, country: str = "ID") -> str:
    """Create a flagger organisation; return its id."""
    with runtime.factory() as session, session.begin():
        org = flaggers.create(session=session, data=FlaggerOrgIn(name=name, country=country))
        return str(org.id)


def make_token(runtime: Runtime, role: Role, org_name: str | None = None, name: str = "") -> str:
    """Create a principal of ``role`` and return a token for it."""
    with runtime.factory() as session, session.begin():
        org_id = None
        if org_name:
            org = flaggers.get_by_name(session=session, name=org_name)
            assert org is not None
            org_id = org.id
        principal = auth.create_principal(
            session=session, role=role, name=name or f"test {role}", org_id=org_id
        )
        if role in STAFF_ROLES:
            give_skills(session, principal.id, languages=("id", "en", "ms"), clearances=CLEARED)
        return auth.issue_token(session=session, principal=principal).token


CLEARED = ("child_sexual_abuse",)


def give_skills(
    session: Session,
    principal_id: uuid.UUID,
    *,
    languages: tuple[str, ...],
    clearances: tuple[str, ...] = (),
) -> None:
    """Let a staff member read ``languages`` and see the ``clearances`` categories."""
    session.add_all(
        ReviewerLanguage(principal_id=principal_id, language=code) for code in languages
    )
    session.add_all(
        ReviewerClearance(principal_id=principal_id, category=category) for category in clearances
    )
    session.flush()


def make_tokens(runtime: Runtime) -> Tokens:
    """Create one of every caller."""
    make_org(runtime, "Cyber Desk A")
    make_org(runtime, "Hotline B", country="MY")
    return Tokens(
        platform=make_token(runtime, "platform"),
        flagger=make_token(runtime, "flagger", "Cyber Desk A"),
        flagger_other_org=make_token(runtime, "flagger", "Hotline B"),
        reviewer=make_token(runtime, "reviewer", name="reviewer one"),
        reviewer2=make_token(runtime, "reviewer", name="reviewer two"),
        admin=make_token(runtime, "admin"),
    )


def bearer(token: str, **extra: str) -> dict[str, str]:
    """Return request headers carrying ``token``."""
    return {"Authorization": f"Bearer {token}", **extra}


def post_body(
    channel: str = "beritakita", message_id: int = 1, text: str = "Halo semua", **fields: Any
) -> dict[str, Any]:
    """A valid body for POST /v1/posts."""
    body: dict[str, Any] = {
        "channel": channel,
        "message_id": message_id,
        "text": text,
        "posted_at": POSTED_AT.isoformat(),
        "views": 100,
        "author_id": 424242,
    }
    body.update(fields)
    return body


def report_body(
    target: Any = "https://t.me/beritakita/1", category: str = "fraud", **fields: Any
) -> dict[str, Any]:
    """A valid body for POST /v1/reports."""
    return {"target": target, "category": category, **fields}


REMOVAL_ORDER = {
    "order_type": "removal_order",
    "issuing_authority": "Direktorat Pengendalian Konten (test)",
    "legal_basis": "Regulation (EU) 2021/784, Art. 3",
}


FRAUD_TEXT = "Selamat! Anda memenangkan hadiah undian, kirim kode OTP anda sekarang juga"


def reported_case(
    client: TestClient | httpx.Client, tokens: Tokens, message_id: int = 1, **fields: Any
) -> str:
    """Ingest a fraud post and let the first flagger report it; return its case id."""
    posted = client.post(
        "/v1/posts",
        json=post_body(message_id=message_id, text=FRAUD_TEXT),
        headers=bearer(tokens.platform),
    )
    assert posted.status_code == 201, posted.text
    receipt = client.post(
        "/v1/reports",
        json=report_body(target=f"https://t.me/beritakita/{message_id}", **fields),
        headers=bearer(tokens.flagger),
    )
    assert receipt.status_code == 202, receipt.text
    return str(receipt.json()["case_id"])


def decision_body(outcome: str = "remove", **fields: Any) -> dict[str, Any]:
    """A valid body for POST /v1/cases/{id}/decision."""
    body: dict[str, Any] = {
        "outcome": outcome,
        "ground": "terms",
        "policy_ref": "terms/fraud",
        "explanation": "The post offers a fake prize to steal banking codes.",
    }
    if outcome == "no_violation":
        body = {"outcome": outcome, "explanation": "Nothing here breaks a rule."}
    body.update(fields)
    return body


def row_counts(runtime: Runtime) -> dict[str, int]:
    """Count the rows of every table (and the audit head), to prove a refusal wrote nothing."""
    counts: dict[str, int] = {}
    with runtime.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = conn.execute(
                text(f"SELECT COUNT(*) FROM {table.name}")
            ).scalar_one()
        counts["audit_head_seq"] = conn.execute(
            text("SELECT last_seq FROM audit_chain_head WHERE id = 1")
        ).scalar_one()
    return counts


def new_reviewer(
    session: Session,
    runtime: Runtime,
    email: str,
    languages: tuple[str, ...],
    clearances: tuple[str, ...] = (),
    role: str = "reviewer",
) -> reviewers.NewReviewer:
    """Create a console account through the product's service (one-time password included)."""
    return team.add_reviewer(
        session=session,
        data=ReviewerIn(
            email=email,
            languages=list(languages),
            clearances=list(clearances),
            role=role,  # type: ignore[arg-type]
        ),
        policy=runtime.policy,
    )


def one_time_password(runtime: Runtime, email: str, *args: Any, **kwargs: Any) -> str:
    """Create a console account; return the one-time password to log in with."""
    with runtime.factory() as session, session.begin():
        return new_reviewer(session, runtime, email, *args, **kwargs).one_time_password


def make_reviewer(
    runtime: Runtime,
    email: str,
    languages: tuple[str, ...],
    clearances: tuple[str, ...] = (),
    role: str = "reviewer",
) -> str:
    """Create a console account and return an API token for it."""
    with runtime.factory() as session, session.begin():
        created = new_reviewer(session, runtime, email, languages, clearances, role)
        return auth.issue_token(session=session, principal=created.principal).token


def run_triage(runtime: Runtime) -> int:
    """Run the triage job once, as its background thread would."""
    return triage.triage_due(
        factory=runtime.factory, policy=runtime.policy, notifier=runtime.notifier
    )


def seed_cases(
    runtime: Runtime, count: int, channel: str = "antrian", reporter: Caller | None = None
) -> list[str]:
    """Ingest ``count`` posts and report each one (a fraud notice, from ``reporter`` when given,
    else from the platform that sent the posts), in one transaction; return the case ids."""
    with runtime.factory() as session, session.begin():
        platform = auth.create_principal(session=session, role="platform", name="seed platform")
        caller = Caller(id=platform.id, role="platform", name=platform.name, org_id=None)
        case_ids = []
        for message_id in range(1, count + 1):
            posts.ingest(
                session=session,
                data=PostIn(
                    **post_body(
                        channel=channel,
                        message_id=message_id,
                        text=f"Promo {message_id} hadiah gratis untuk anda",
                    )
                ),
                keyring=runtime.settings.keyring,
                actor=caller.audit_actor,
                inspector=runtime.pipeline,
                owner_id=caller.id,
            )
            intake = reports.submit(
                session=session,
                caller=reporter or caller,
                data=ReportIn.model_validate(report_body(f"https://t.me/{channel}/{message_id}")),
                policy=runtime.policy,
                keyring=runtime.settings.keyring,
                notifier=runtime.notifier,
            )
            case_ids.append(str(intake.report.case_id))
    return case_ids
