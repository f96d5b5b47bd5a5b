"""Load the demo platform: channels, posts, a flagger organisation, reports, tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.auth import service as auth
from tanggap.auth.models import Principal
from tanggap.auth.passwords import hash_password
from tanggap.auth.schemas import Caller, Role
from tanggap.channels import service as channels
from tanggap.channels.schemas import ChannelIn
from tanggap.db.base import utcnow
from tanggap.flaggers import service as flaggers
from tanggap.flaggers.schemas import FlaggerOrgIn
from tanggap.notify.port import Notifier
from tanggap.policy.schemas import Policy
from tanggap.posts import service as posts
from tanggap.posts.inspection import PostInspector
from tanggap.posts.schemas import PostIn
from tanggap.pseudonyms import Keyring
from tanggap.reports import intake as reports
from tanggap.reports.schemas import ReportIn, TargetRef
from tanggap.reviewers.models import ReviewerClearance, ReviewerLanguage

DEMO_FILE = Path(__file__).parent / "demo_data.yaml"
DEMO_ORG = "Demo Cyber Desk"
PORTAL_EMAIL = "demo-flagger@tanggap.invalid"
ACTOR = "cli:demo"
# name → (role, display name); tokens derive from the secret key, so they can be shown again.
PRINCIPALS: dict[str, tuple[Role, str]] = {
    "platform": ("platform", "Demo platform"),
    "flagger": ("flagger", "Demo Cyber Desk member"),
    "reviewer": ("reviewer", "Demo reviewer"),
    "lead": ("lead", "Demo lead"),
    "admin": ("admin", "Demo admin"),
    "legal": ("legal", "Demo legal officer"),
}
# The demo team reads the demo's languages; the lead and the admin are cleared for the
# restricted category, the reviewer is not (so the console shows both sides).
STAFF_SKILLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "reviewer": (("id", "ms", "en"), ()),
    "lead": (("id", "ms", "en"), ("child_sexual_abuse",)),
    "admin": (("id", "ms", "en"), ("child_sexual_abuse",)),
}
# Who logs into a web page with the demo password: the portal, the review console, the legal
# register.
WEB_LOGINS = ("flagger", "reviewer", "lead", "legal")


@dataclass
class DemoResult:
    """What loading the demo did and the tokens to use it with."""

    loaded: bool
    tokens: dict[str, str]
    portal_email: str = ""
    portal_password: str = ""
    channels: int = 0
    posts: int = 0
    reports: int = 0


def load(
    *,
    session: Session,
    secret_key: str,
    policy: Policy,
    inspector: PostInspector,
    keyring: Keyring | None = None,
    notifier: Notifier,
    data_file: Path = DEMO_FILE,
) -> DemoResult:
    """Load the demo once; later calls only return the tokens and the portal login."""
    keyring = keyring or Keyring.default(secret_key)
    tokens = {name: auth.demo_token(secret_key=secret_key, name=name) for name in PRINCIPALS}
    password = auth.demo_token(secret_key=secret_key, name="portal-password")[-20:]
    if _demo_principal(session, "platform") is not None:
        _portal_login(session, password)
        return DemoResult(
            loaded=False, tokens=tokens, portal_email=PORTAL_EMAIL, portal_password=password
        )

    raw: dict[str, Any] = yaml.safe_load(data_file.read_text(encoding="utf-8"))
    org = flaggers.get_by_name(session=session, name=DEMO_ORG) or flaggers.create(
        session=session,
        data=FlaggerOrgIn(name=DEMO_ORG, country="ID", trust="high"),
        actor=ACTOR,
    )
    callers: dict[str, Caller] = {}
    for name, (role, display) in PRINCIPALS.items():
        principal = auth.create_principal(
            session=session,
            role=role,
            name=display,
            org_id=org.id if role == "flagger" else None,
            email=f"demo-{name}@tanggap.invalid",
            actor=ACTOR,
        )
        auth.issue_token(session=session, principal=principal, token=tokens[name], actor=ACTOR)
        if name in STAFF_SKILLS:
            languages, clearances = STAFF_SKILLS[name]
            session.add_all(
                ReviewerLanguage(principal_id=principal.id, language=c) for c in languages
            )
            session.add_all(
                ReviewerClearance(principal_id=principal.id, category=c) for c in clearances
            )
        callers[name] = Caller(id=principal.id, role=role, name=display, org_id=principal.org_id)

    _portal_login(session, password)
    now = utcnow()
    result = DemoResult(
        loaded=True, tokens=tokens, portal_email=PORTAL_EMAIL, portal_password=password
    )
    platform_actor = callers["platform"].audit_actor
    for entry in raw["channels"]:
        channel_data = {k: entry[k] for k in ChannelIn.model_fields if k in entry}
        channels.upsert(session=session, data=ChannelIn(**channel_data), actor=platform_actor)
        result.channels += 1
        for item in entry["posts"]:
            posts.ingest(
                session=session,
                data=PostIn(
                    channel=entry["handle"],
                    message_id=item["message_id"],
                    text=item["text"],
                    media=item.get("media") or [],
                    posted_at=now - timedelta(hours=float(item["hours_ago"])),
                    views=item.get("views"),
                    author_id=item["author"],
                ),
                keyring=keyring,
                actor=platform_actor,
                inspector=inspector,
                owner_id=callers["platform"].id,
            )
            result.posts += 1

    for item in raw.get("reports", []):
        caller = callers["flagger"] if item["source"] == "flagger" else callers["platform"]
        reports.submit(
            session=session,
            caller=caller,
            data=ReportIn(
                target=TargetRef(channel=item["channel"], message_id=item["message_id"]),
                category=item["category"],
                note=item.get("note"),
                order_type=item.get("order_type", "notice"),
                legal_basis=item.get("legal_basis"),
                issuing_authority=item.get("issuing_authority"),
                reporter_id=item.get("reporter"),
            ),
            policy=policy,
            keyring=keyring,
            notifier=notifier,
        )
        result.reports += 1
    return result


def _portal_login(session: Session, password: str) -> None:
    # The demo's people log in with a password derived from the secret key, so that
    # `make run` can print it every time; real accounts get a one-time password instead.
    for name in WEB_LOGINS:
        person = _demo_principal(session, name)
        if person is not None and person.password_hash is None:
            person.password_hash = hash_password(password)
            person.language = "id"


def _demo_principal(session: Session, name: str) -> Principal | None:
    return (
        session.execute(select(Principal).where(Principal.email == f"demo-{name}@tanggap.invalid"))
        .scalars()
        .first()
    )
