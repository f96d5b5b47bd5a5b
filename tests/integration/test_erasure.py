"""Erasure by author and rotation of the pseudonym key: an author is found under every key of
the ring, new data goes under the new key, and an erasure keeps only what a decision needs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap import logs
from tanggap.audit import service as audit
from tanggap.audit.chain import PURGED_TEXT
from tanggap.audit.models import AuditEvent
from tanggap.cases.models import Case, Decision, NearDuplicate
from tanggap.channels import members
from tanggap.channels.models import TelegramMember
from tanggap.config import Settings
from tanggap.db.base import utcnow
from tanggap.detection.models import FingerprintBand, PostFingerprint, Signal
from tanggap.posts.models import Post, PostMedia, PseudonymLink
from tanggap.pseudonyms import DEFAULT_KEY_ID, user_ref
from tanggap.reports.models import Report
from tanggap.review.authors import removed_posts
from tanggap.runtime import Runtime, build_runtime
from tanggap.server import create_app
from tests.conftest import TEST_SECRET
from tests.factories import (
    FRAUD_TEXT,
    Tokens,
    bearer,
    decision_body,
    make_token,
    post_body,
    report_body,
)
from tests.integration.test_banks import image

AUTHOR = "424242"  # post_body's author
NEW_SECRET = "k2-secret-for-the-rotated-ring-0123456789"
REPORTER = "555000"


@pytest.fixture
def rotated(settings: Settings) -> Iterator[Runtime]:
    """The same database under a ring whose current key is new, the old one kept."""
    keys = SecretStr(f"k2:{NEW_SECRET},{DEFAULT_KEY_ID}:{TEST_SECRET}")
    runtime = build_runtime(settings.model_copy(update={"pseudonym_keys": keys}))
    yield runtime
    runtime.close()


@pytest.fixture
def rotated_client(rotated: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime=rotated, run_dispatcher=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def removed_before_rotation(client: TestClient, tokens: Tokens) -> None:
    """The author's post 1, reported and removed under the old key; a user's report on it."""
    platform = bearer(tokens.platform)
    assert client.post("/v1/posts", json=post_body(), headers=platform).status_code == 201
    reported = client.post(
        "/v1/reports",
        json=report_body(reporter_id=REPORTER, note="Ini penipuan, saya Rina dari Medan"),
        headers=platform,
    )
    assert reported.status_code == 202, reported.text
    case_id = reported.json()["case_id"]
    reviewer = bearer(tokens.reviewer)
    assert client.post(f"/v1/cases/{case_id}/claim", headers=reviewer).status_code == 200
    decided = client.post(f"/v1/cases/{case_id}/decision", json=decision_body(), headers=reviewer)
    assert decided.status_code == 201, decided.text


def posts(runtime: Runtime) -> dict[int, Post]:
    with runtime.factory() as session:
        return {p.message_id: p for p in session.execute(select(Post)).scalars()}


def test_after_rotation_new_posts_use_the_new_key_and_the_author_is_still_known(
    client: TestClient,
    tokens: Tokens,
    runtime: Runtime,
    rotated: Runtime,
    rotated_client: TestClient,
) -> None:
    removed_before_rotation(client, tokens)
    sent = rotated_client.post(
        "/v1/posts",
        json=post_body(message_id=2, text="Promo lagi"),
        headers=bearer(tokens.platform),
    )
    assert sent.status_code == 201, sent.text
    stored = posts(runtime)
    old, new = stored[1], stored[2]
    assert (old.key_id, new.key_id) == (DEFAULT_KEY_ID, "k2")
    assert old.author_ref == user_ref(secret_key=TEST_SECRET, platform_user_id=AUTHOR)
    assert new.author_ref == user_ref(secret_key=NEW_SECRET, platform_user_id=AUTHOR)
    with runtime.factory() as session:
        # The removal under the old key counts against the author's post under the new one.
        assert (
            removed_posts(session=session, author_ref=new.author_ref, besides_post_id=new.id) == 1
        )
        link = session.get(PseudonymLink, old.author_ref)
        assert link is not None and link.current_ref == new.author_ref
        report = session.execute(select(Report)).scalar_one()
        assert report.key_id == DEFAULT_KEY_ID
    # A report on a settled case is new: made under the new key.
    fresh = rotated_client.post(
        "/v1/reports", json=report_body(reporter_id=REPORTER), headers=bearer(tokens.platform)
    )
    assert fresh.status_code == 202, fresh.text
    with runtime.factory() as session:
        made = session.get(Report, uuid.UUID(fresh.json()["report_id"]))
    assert made is not None and made.key_id == "k2"
    assert made.reporter_ref == user_ref(secret_key=NEW_SECRET, platform_user_id=REPORTER)


def test_a_report_repeated_after_rotation_is_found_under_the_old_key(
    client: TestClient, tokens: Tokens, rotated_client: TestClient
) -> None:
    platform = bearer(tokens.platform)
    assert client.post("/v1/posts", json=post_body(), headers=platform).status_code == 201
    first = client.post("/v1/reports", json=report_body(reporter_id=REPORTER), headers=platform)
    assert first.status_code == 202
    again = rotated_client.post(
        "/v1/reports", json=report_body(reporter_id=REPORTER), headers=platform
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["report_id"] == first.json()["report_id"]


def derived_from(session: Session, post_ids: list[int]) -> dict[str, Any]:
    """What detection and ingest derived from these posts' text and images."""

    def count(model: Any) -> int:
        query = select(func.count()).select_from(model).where(model.post_id.in_(post_ids))
        return int(session.execute(query).scalar_one())

    signals = select(Signal.detail).where(Signal.post_id.in_(post_ids), Signal.kind == "rule")
    copies = select(Signal.detail).where(
        Signal.post_id.in_(post_ids), Signal.kind == "near_duplicate"
    )
    media = (
        select(PostMedia.sha256, PostMedia.md5, PostMedia.pdq)
        .where(PostMedia.post_id.in_(post_ids))
        .order_by(PostMedia.post_id, PostMedia.position)
    )
    return {
        "fingerprints": count(PostFingerprint),
        "bands": count(FingerprintBand),
        "matched": [detail["matched"] for detail in session.execute(signals).scalars()],
        "copy_of": [detail["of"] for detail in session.execute(copies).scalars()],
        "links": count(NearDuplicate),
        "media": [tuple(row) for row in session.execute(media)],
    }


@pytest.mark.usefixtures("restored_logs")
def test_an_erasure_keeps_the_evidence_and_erases_the_rest(
    client: TestClient,
    tokens: Tokens,
    runtime: Runtime,
    rotated: Runtime,
    rotated_client: TestClient,
    capfd: pytest.CaptureFixture[str],
) -> None:
    removed_before_rotation(client, tokens)
    platform = bearer(tokens.platform)
    body = post_body(
        message_id=2, text="Tulisan pribadi 2, ini cerita saya tentang liburan ke Bali"
    )
    assert rotated_client.post("/v1/posts", json=body, headers=platform).status_code == 201
    # Reported and found fine: a decision whose explanation quotes the post; no evidence.
    reported = rotated_client.post(
        "/v1/reports", json=report_body("https://t.me/beritakita/2"), headers=bearer(tokens.flagger)
    )
    case_id = reported.json()["case_id"]
    reviewer = bearer(tokens.reviewer)
    assert rotated_client.post(f"/v1/cases/{case_id}/claim", headers=reviewer).status_code == 200
    fine = decision_body("no_violation", explanation="A holiday in Bali, nothing more.")
    decided = rotated_client.post(f"/v1/cases/{case_id}/decision", json=fine, headers=reviewer)
    assert decided.status_code == 201, decided.text
    # A rule flags the third (the words it matched are kept with its signal); it has an image.
    photo = {"sha256": "ab" * 32, "md5": "cd" * 16, "url": "https://cdn.example/p/3.jpg"}
    sent = {"data": image("bridge-1-original.jpg")}  # waits in memory for its PDQ hash
    body = post_body(message_id=3, text=f"{FRAUD_TEXT} ke 0812", media=[photo, sent])
    assert rotated_client.post("/v1/posts", json=body, headers=platform).status_code == 201
    stored = posts(runtime)
    with runtime.factory() as session:
        derived = derived_from(session, [stored[2].id, stored[3].id])
    assert derived["fingerprints"] == 2 and derived["bands"] > 0
    assert derived["matched"] == ["kirim kode otp"]
    assert derived["media"][0] == ("ab" * 32, "cd" * 16, None)
    assert derived["media"][1][2] is None and rotated.media.waiting_bytes > 0
    with runtime.factory() as session, session.begin():
        # Post 3 was found a near copy of post 2 (whose case restricts nothing): a link to the
        # case and a signal pointing at the post it copied.
        fine_case = session.execute(select(Case.id).where(Case.post_id == stored[2].id))
        session.add(
            NearDuplicate(case_id=fine_case.scalar_one(), post_id=stored[3].id, similarity=0.8)
        )
        of = {"of": "https://t.me/beritakita/2", "category": "fraud"}
        session.add(
            Signal(
                post_id=stored[3].id,
                kind="near_duplicate",
                source="removed_content",
                score=0.8,
                detail=of,
            )
        )
        members.keep(
            session=session,
            chat_ref="-100",
            author_ref=stored[2].author_ref,
            sealed_id="sealed",
            seen_at=utcnow(),
            key_id="k2",
        )
    logs.configure("INFO")
    capfd.readouterr()

    answer = rotated_client.post(
        "/v1/erasures", json={"platform_user_id": AUTHOR}, headers=bearer(tokens.platform)
    )
    assert answer.status_code == 200, answer.text
    erased = answer.json()
    assert {k: v for k, v in erased.items() if k != "erasure_id"} == {
        "posts_erased": 2,
        "posts_kept_as_evidence": 1,
        "appeal_reasons": 0,
        "report_notes": 0,
        "telegram_members": 1,
        "pseudonym_links": 1,
    }
    assert AUTHOR not in capfd.readouterr().err
    rotated.media.run_once()  # the image that waited is not hashed for an erased post
    after = posts(runtime)
    assert after[1].text == stored[1].text and after[1].author_ref == stored[1].author_ref
    for message_id in (2, 3):
        assert after[message_id].text == PURGED_TEXT
        assert after[message_id].author_ref.startswith("erased:")
    with runtime.factory() as session:
        derived = derived_from(session, [stored[2].id, stored[3].id])
        assert derived == {
            "fingerprints": 0,
            "bands": 0,
            "matched": [PURGED_TEXT],
            "copy_of": [PURGED_TEXT],
            "links": 0,
            "media": [(None, None, None), (None, None, None)],
        }
        kept = derived_from(session, [stored[1].id])  # the evidence keeps its fingerprint
        assert kept["fingerprints"] == 1
        explanations = session.execute(
            select(Decision.explanation).join(Case).order_by(Case.post_id)
        ).scalars()
        assert list(explanations) == [decision_body()["explanation"], PURGED_TEXT]
        assert session.execute(select(TelegramMember)).first() is None
        assert session.execute(select(PseudonymLink)).first() is None
        logged = session.execute(
            select(AuditEvent.data).where(AuditEvent.action == "erasure.done")
        ).scalar_one()
    assert AUTHOR not in logged and stored[2].author_ref not in logged
    assert json.loads(logged)["posts_erased"] == 2

    # The reporter asks too: their note and their link to the report go, the report stays.
    reporter = rotated_client.post(
        "/v1/erasures", json={"platform_user_id": REPORTER}, headers=bearer(tokens.admin)
    )
    assert reporter.status_code == 200 and reporter.json()["report_notes"] == 1
    with runtime.factory() as session:
        on_first = select(Report).join(Case).where(Case.post_id == stored[1].id)
        report = session.execute(on_first).scalar_one()
    assert (report.note, report.reporter_ref, report.key_id) == (PURGED_TEXT, None, None)

    # Asked again: nothing more to erase; the evidence is still kept.
    again = rotated_client.post(
        "/v1/erasures", json={"platform_user_id": AUTHOR}, headers=bearer(tokens.platform)
    )
    assert again.status_code == 200
    assert again.json()["posts_erased"] == 0 and again.json()["posts_kept_as_evidence"] == 1
    runtime.seal_audit()
    with runtime.factory() as session:
        assert audit.verify(session=session).intact


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "platform_user_id"),
        ({"platform_user_id": ""}, "platform_user_id"),
        ({"platform_user_id": "x" * 129}, "platform_user_id"),
        ({"platform_user_id": 4.2}, "platform_user_id"),
        ({"platform_user_id": "1", "name": "x"}, "name"),
    ],
)
def test_a_bad_erasure_request_names_the_field_and_erases_nothing(
    client: TestClient, tokens: Tokens, runtime: Runtime, body: dict[str, object], field: str
) -> None:
    assert (
        client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform)).status_code
        == 201
    )
    answer = client.post("/v1/erasures", json=body, headers=bearer(tokens.platform))
    assert answer.status_code == 422
    assert field in json.dumps(answer.json())
    assert posts(runtime)[1].text == post_body()["text"]


def test_only_a_platform_or_an_admin_may_erase(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    for token in (tokens.flagger, tokens.reviewer, make_token(runtime, "lead")):
        answer = client.post(
            "/v1/erasures", json={"platform_user_id": AUTHOR}, headers=bearer(token)
        )
        assert answer.status_code == 403


def test_the_log_processor_redacts_a_raw_platform_user_id() -> None:
    event = logs.redact(None, "info", {"event": "x", "platform_user_id": AUTHOR})
    assert event["platform_user_id"] == logs.REDACTED
