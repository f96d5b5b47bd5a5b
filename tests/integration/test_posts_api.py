"""POST /v1/posts and /v1/channels: ingest, idempotency, pseudonyms, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tanggap.pseudonyms import user_ref
from tanggap.runtime import Runtime
from tests.conftest import TEST_SECRET
from tests.factories import Tokens, bearer, post_body, row_counts


def test_ingest_creates_then_is_idempotent(client: TestClient, tokens: Tokens) -> None:
    first = client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    assert first.status_code == 201, first.text
    assert first.json()["created"] is True
    assert first.json()["url"] == "https://t.me/beritakita/1"
    again = client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    assert again.status_code == 200
    assert again.json()["created"] is False and again.json()["changed"] == []


def test_a_resent_post_with_new_text_and_views_is_updated(
    client: TestClient, tokens: Tokens
) -> None:
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    edited = client.post(
        "/v1/posts",
        json=post_body(text="Halo semua (diedit)", views=250),
        headers=bearer(tokens.platform),
    )
    assert edited.status_code == 200
    assert set(edited.json()["changed"]) >= {"text", "views"}


def test_author_id_is_kept_only_as_a_keyed_pseudonym(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    body = post_body(author_id="tg-user-987654321")
    assert client.post("/v1/posts", json=body, headers=bearer(tokens.platform)).status_code == 201
    with runtime.engine.connect() as conn:
        stored = conn.execute(text("SELECT author_ref FROM posts")).scalar_one()
        dump = " ".join(
            str(row)
            for table in ("posts", "audit_events", "channels")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
        )
    assert stored == user_ref(secret_key=TEST_SECRET, platform_user_id="tg-user-987654321")
    assert "987654321" not in dump


def test_media_hashes_are_stored_lower_case(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    media = [{"sha256": "AB" * 32, "md5": "cd" * 16}, {"pdq": "0f" * 32}]
    answer = client.post("/v1/posts", json=post_body(media=media), headers=bearer(tokens.platform))
    assert answer.status_code == 201 and answer.json()["media_count"] == 2
    with runtime.engine.connect() as conn:
        rows = conn.execute(text("SELECT sha256, md5, pdq FROM post_media ORDER BY position")).all()
    assert rows == [("ab" * 32, "cd" * 16, None), (None, None, "0f" * 32)]


def test_channel_metadata_is_upserted(client: TestClient, tokens: Tokens) -> None:
    body = {"handle": "@BeritaKita", "title": "Berita Kita", "country": "id", "subscribers": 1200}
    created = client.post("/v1/channels", json=body, headers=bearer(tokens.platform))
    assert created.status_code == 201
    assert created.json()["handle"] == "beritakita" and created.json()["country"] == "ID"
    updated = client.post(
        "/v1/channels",
        json={"handle": "beritakita", "subscribers": 1300},
        headers=bearer(tokens.platform),
    )
    assert updated.status_code == 200
    assert updated.json()["subscribers"] == 1300 and updated.json()["title"] == "Berita Kita"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"surprise": 1}, "surprise"),
        ({"message_id": "satu"}, "message_id"),
        ({"message_id": 0}, "message_id"),
        ({"channel": "no spaces allowed"}, "channel"),
        ({"posted_at": "2026-11-23T08:00:00"}, "posted_at"),
        ({"posted_at": "2999-01-01T00:00:00Z"}, "posted_at"),
        ({"views": -1}, "views"),
        ({"author_id": ""}, "author_id"),
        ({"text": "x" * 20_000}, "text"),
        ({"media": [{"sha256": "xyz"}]}, "media.0.sha256"),
        ({"media": [{"md5": "ab" * 16, "size": 3}]}, "media.0.size"),
        ({"media": [{}]}, "media.0"),
        ({"media": [{"md5": "ab" * 16}] * 11}, "media"),
        ({"text": "", "media": []}, "body"),
        ({"text": "ada\x00nol"}, "text"),
        ({"views": 2**63}, "views"),
        ({"posted_at": "0001-01-01T00:00:00+05:00"}, "posted_at"),
        ({"author_id": True}, "author_id"),
        ({"author_id": 1.5}, "author_id"),
    ],
)
def test_bad_posts_are_refused_naming_the_field(
    client: TestClient, tokens: Tokens, runtime: Runtime, change: dict[str, Any], field: str
) -> None:
    before = row_counts(runtime)
    answer = client.post("/v1/posts", json=post_body(**change), headers=bearer(tokens.platform))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["field"] == field, error
    assert row_counts(runtime) == before


def test_missing_fields_are_named(client: TestClient, tokens: Tokens) -> None:
    answer = client.post("/v1/posts", json={"text": "hi"}, headers=bearer(tokens.platform))
    assert answer.status_code == 422
    fields = {d["field"] for d in answer.json()["error"]["details"]}
    assert {"channel", "message_id", "posted_at", "author_id"} <= fields


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthorized"),
        ({"Authorization": "Basic abc"}, 401, "unauthorized"),
        ({"Authorization": "Bearer tgp_not_a_real_token"}, 401, "unauthorized"),
    ],
)
def test_ingest_needs_a_valid_token(
    client: TestClient, runtime: Runtime, headers: dict[str, str], status: int, code: str
) -> None:
    before = row_counts(runtime)
    answer = client.post("/v1/posts", json=post_body(), headers=headers)
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code
    assert answer.headers["www-authenticate"] == "Bearer"
    assert row_counts(runtime) == before


@pytest.mark.parametrize("role", ["flagger", "reviewer", "admin"])
def test_only_the_platform_ingests(
    client: TestClient, tokens: Tokens, runtime: Runtime, role: str
) -> None:
    before = row_counts(runtime)
    answer = client.post("/v1/posts", json=post_body(), headers=bearer(getattr(tokens, role)))
    assert answer.status_code == 403
    assert "platform" in answer.json()["error"]["message"]
    assert row_counts(runtime) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "Berita\x00Kita"}, "title"),
        ({"subscribers": 2**63}, "subscribers"),
        ({"country": "IDN"}, "country"),
        ({"handle": "x"}, "handle"),
    ],
)
def test_bad_channel_metadata_is_refused(
    client: TestClient, tokens: Tokens, runtime: Runtime, change: dict[str, Any], field: str
) -> None:
    before = row_counts(runtime)
    body = {"handle": "beritakita", "title": "Berita Kita", **change}
    answer = client.post("/v1/channels", json=body, headers=bearer(tokens.platform))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert row_counts(runtime) == before


def test_post_text_is_kept_exactly_as_sent(client: TestClient, tokens: Tokens) -> None:
    body = post_body(text="  indentasi tetap  \n")
    client.post("/v1/posts", json=body, headers=bearer(tokens.platform))
    again = client.post("/v1/posts", json=body, headers=bearer(tokens.platform))
    assert again.json()["changed"] == []


def test_a_batch_is_stored_in_one_go_and_resent_safely(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    posts = [
        post_body(channel="kanal_a", message_id=1, text="Harga cabai naik lagi di pasar"),
        post_body(
            channel="kanal_b",
            message_id=2,
            text="Bocoran p0la gacooor malam ini, depo pulsa bisa bosku",
        ),
        post_body(channel="kanal_a", message_id=1, text="Harga cabai naik lagi di pasar!"),
    ]
    done = client.post("/v1/posts/batch", json={"posts": posts}, headers=bearer(tokens.platform))
    assert done.status_code == 200, done.text
    body = done.json()
    # The same post twice in a batch: the second is a resend that edits it.
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 1, 0)
    assert [(p["channel"], p["created"], p["changed"]) for p in body["posts"]] == [
        ("kanal_a", True, []),
        ("kanal_b", True, []),
        ("kanal_a", False, ["text"]),
    ]
    assert body["posts"][1]["language"] == "id"
    signals = client.get("/v1/posts/kanal_b/2/signals", headers=bearer(tokens.reviewer)).json()
    assert [s["source"] for s in signals if s["kind"] == "rule"] == ["rule:gambling.slot-promo"]
    again = client.post(
        "/v1/posts/batch", json={"posts": posts[:2]}, headers=bearer(tokens.platform)
    )
    assert again.json()["unchanged"] == 1 and again.json()["updated"] == 1  # kanal_a's text back
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM posts")).scalar_one() == 2


def test_a_bad_post_refuses_the_whole_batch_naming_it(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    good = post_body(channel="kanal_a", message_id=1, text="Baik")
    before = row_counts(runtime)
    cases: list[tuple[Any, str]] = [
        ({"posts": [good, {**good, "message_id": -1}]}, "posts.1.message_id"),
        ({"posts": []}, "posts"),
        ({"posts": [good] * 501}, "posts"),
        (
            {
                "posts": [
                    good,
                    post_body(message_id=2, media=[{"data": "aGVsbG8=", "md5": "0" * 32}]),
                ]
            },
            "posts.1.media.0.md5",
        ),
    ]
    for payload, field in cases:
        refused = client.post("/v1/posts/batch", json=payload, headers=bearer(tokens.platform))
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == field
    assert row_counts(runtime) == before
    flagger = client.post("/v1/posts/batch", json={"posts": [good]}, headers=bearer(tokens.flagger))
    assert flagger.status_code == 403
    assert row_counts(runtime) == before


@pytest.mark.parametrize("written", ["١٢٣", "1_0", "99999999999999999999", "0"])
@pytest.mark.parametrize("page", ["signals", "statement"])
def test_a_message_id_in_the_path_is_ascii_digits_up_to_2_53(
    client: TestClient, tokens: Tokens, written: str, page: str
) -> None:
    # Before: "١٢٣" and "1_0" were read as 123 and 10, and an id past 2**63 reached the database.
    answer = client.get(f"/v1/posts/beritakita/{written}/{page}", headers=bearer(tokens.reviewer))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "message_id"
