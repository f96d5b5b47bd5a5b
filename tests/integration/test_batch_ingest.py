"""Batch ingest: new posts screened as a batch and written in bulk store exactly what posts sent
one by one store; a batch costs the same statements whatever its size; refusals stay alone."""

from __future__ import annotations

import base64
import hashlib
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url

from tanggap.auth.schemas import Caller
from tanggap.banks import service as banks
from tanggap.banks.schemas import EntryIn
from tanggap.config import Settings
from tanggap.db.migrate import upgrade
from tanggap.db.session import make_engine
from tanggap.errors import Conflict, InvalidInput, TanggapError
from tanggap.posts.batch import ingest_batch
from tanggap.posts.schemas import PostIn
from tanggap.posts.service import IngestResult
from tanggap.runtime import Runtime, build_runtime
from tanggap.server import create_app
from tests.factories import Tokens, bearer, make_tokens, post_body, row_counts
from tests.shared_data import PDQ_REFERENCE

RULES = """version: 1
rules:
  - id: test.review-me
    category: drugs
    keywords: [sabu murah]
    effect: {open_case: true}
  - id: test.take-down
    category: fraud
    domains: [klaim-bantuan.example.net]
    effect: {auto_remove: true}
  - id: test.just-flag
    category: fraud
    keywords: [hadiah undian]
    effect: {flag: 0.5}
"""
BANNED = "5d41402abc4b2a76b9719d911017c592"  # an md5 in the auto_remove bank


def bank_with_one_md5(client: TestClient, tokens: Tokens, name: str, policy: str) -> None:
    made = client.post(
        "/v1/banks",
        json={"name": name, "category": "terrorism", "policy": policy},
        headers=bearer(tokens.admin),
    )
    assert made.status_code == 201, made.text
    added = client.post(
        f"/v1/banks/{name}/entries",
        json={"entries": [{"kind": "md5", "value": BANNED, "label": "test"}]},
        headers=bearer(tokens.admin),
    )
    assert added.status_code == 200, added.text


@contextmanager
def ruled(settings: Settings, rules_dir: Path) -> Iterator[tuple[Runtime, TestClient, Tokens]]:
    """A runtime with the test's rules and an auto_remove bank holding one md5."""
    runtime = build_runtime(settings.model_copy(update={"rules_dir": rules_dir}))
    tokens = make_tokens(runtime)
    with TestClient(create_app(runtime=runtime, run_dispatcher=False)) as client:
        bank_with_one_md5(client, tokens, "banned", "auto_remove")
        yield runtime, client, tokens
    runtime.close()


@pytest.fixture
def twin_url(database_backend: tuple[str, str], tmp_path: Path) -> Iterator[str]:
    """A second fresh database beside the test's own."""
    kind, where = database_backend
    if kind == "sqlite":
        path = tmp_path / "twin.db"
        shutil.copyfile(where, path)
        yield f"sqlite:///{path}"
        return
    given = make_url(where)
    name = f"{given.database}_twin"
    admin = make_engine(where).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = given.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


JPEG = (PDQ_REFERENCE / "bridge-1-original.jpg").read_bytes()


def image() -> str:
    return base64.b64encode(JPEG).decode()


def bodies(channel: str = "kanal_uji") -> list[dict[str, Any]]:
    """Posts that take every branch of detection: nothing found, a flag, the classifier, a
    review case, a removal by rule, a removal by bank, an image to hash, media without text."""
    return [
        post_body(channel=channel, message_id=1, text="Harga cabai naik lagi di pasar induk"),
        post_body(channel=channel, message_id=2, text="Ikuti hadiah undian akhir tahun ya"),
        post_body(
            channel=channel,
            message_id=3,
            text="Selamat nomor anda mendapatkan hadiah Rp 50 juta dari Shopee, "
            "transfer biaya admin ke rekening 1234 untuk klaim",
        ),
        post_body(channel=channel, message_id=4, text="Ada sabu murah, pesan lewat DM"),
        post_body(
            channel=channel,
            message_id=5,
            text="Bantuan Rp2 juta, klaim di https://klaim-bantuan.example.net/form",
        ),
        post_body(channel=channel, message_id=6, text="Lihat ini", media=[{"md5": BANNED}]),
        post_body(channel=channel, message_id=7, text="Jembatan", media=[{"data": image()}]),
        post_body(
            channel=channel,
            message_id=8,
            text="",
            media=[{"sha256": "a" * 64, "url": "https://cdn.example.id/8.jpg"}],
        ),
    ]


def stored(runtime: Runtime, channel: str = "kanal_uji") -> dict[int, dict[str, Any]]:
    """Everything stored about each post of ``channel``, by message id, without ids."""
    queries = {
        "post": "SELECT p.text, p.language, p.views, p.author_ref, p.posted_at "
        "FROM posts p WHERE p.id = :id",
        "media": "SELECT position, sha256, md5, pdq, url, pdq_pending FROM post_media "
        "WHERE post_id = :id ORDER BY position",
        "fingerprint": "SELECT minhash FROM post_fingerprints WHERE post_id = :id",
        "bands": "SELECT band, key FROM fingerprint_bands WHERE post_id = :id ORDER BY band",
        "signals": "SELECT kind, source, score, detail FROM signals WHERE post_id = :id "
        "ORDER BY source",
        "cases": "SELECT category, state, automated FROM cases WHERE post_id = :id",
        "audit": "SELECT action, data FROM audit_events WHERE subject_type = 'post' "
        "AND subject_id = :sid ORDER BY id",
    }
    found: dict[int, dict[str, Any]] = {}
    with runtime.engine.connect() as conn:
        ids = conn.execute(
            text(
                "SELECT p.message_id, p.id FROM posts p JOIN channels c ON c.id = p.channel_id "
                "WHERE c.handle = :handle"
            ),
            {"handle": channel},
        ).all()
        for message_id, post_id in ids:
            found[message_id] = {
                name: [
                    tuple(row)
                    for row in conn.execute(text(sql), {"id": post_id, "sid": str(post_id)})
                ]
                for name, sql in queries.items()
            }
            actions = conn.execute(
                text(
                    "SELECT a.kind, a.state FROM actions a JOIN cases c ON c.id = a.case_id "
                    "WHERE c.post_id = :id"
                ),
                {"id": post_id},
            ).all()
            found[message_id]["actions"] = sorted(tuple(row) for row in actions)
    return found


def test_a_batch_stores_what_posts_sent_one_by_one_store(
    settings: Settings, twin_url: str, tmp_path: Path
) -> None:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "test.yaml").write_text(RULES, encoding="utf-8")
    one_by_one = []
    with ruled(settings, rules_dir) as (runtime, client, tokens):
        for body in bodies():
            answer = client.post("/v1/posts", json=body, headers=bearer(tokens.platform))
            assert answer.status_code == 201, answer.text
            one_by_one.append(answer.json())
        alone = stored(runtime)
    twin = settings.model_copy(update={"database_url": twin_url})
    with ruled(twin, rules_dir) as (runtime, client, tokens):
        batch = client.post(
            "/v1/posts/batch", json={"posts": bodies()}, headers=bearer(tokens.platform)
        )
        assert batch.status_code == 200, batch.text
        together = stored(runtime)
    assert batch.json()["created"] == len(one_by_one)
    assert batch.json()["posts"] == one_by_one
    for message_id, post in alone.items():
        for name, rows in post.items():
            assert together[message_id][name] == rows, (message_id, name)
    # The branches were taken: a flag, a review case, two removals, an image waiting.
    assert [s[1] for s in together[2]["signals"]] == ["rule:test.just-flag"]
    assert [case[0] for case in together[4]["cases"]] == ["drugs"]
    assert together[5]["actions"] and together[6]["actions"]
    assert together[7]["media"][0][5]
    assert not together[1]["signals"] and not together[1]["cases"]


def count_statements(runtime: Runtime) -> list[str]:
    statements: list[str] = []

    def seen(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        # The wake-ups go out from a thread of their own after the commit, whenever its
        # window closes: they are not the batch's statements.
        if threading.current_thread().name != "wake-sender":
            statements.append(statement[:80])

    event.listen(runtime.engine, "before_cursor_execute", seen)
    return statements


def test_a_batch_takes_as_many_statements_for_sixty_posts_as_for_six(
    runtime: Runtime, client: TestClient, tokens: Tokens
) -> None:
    def posts_from(first: int, size: int) -> list[dict[str, Any]]:
        return [
            post_body(
                channel="ramai",
                message_id=n,
                text=f"Kabar nomor {n}: harga beras di pasar {n % 7} naik",
                media=[
                    {
                        "sha256": hashlib.sha256(str(n).encode()).hexdigest(),
                        "md5": hashlib.md5(str(n).encode()).hexdigest(),
                    }
                ],
            )
            for n in range(first, first + size)
        ]

    bank_with_one_md5(client, tokens, "watched", "review")  # the media are matched against it
    warm = client.post(
        "/v1/posts/batch", json={"posts": posts_from(1, 3)}, headers=bearer(tokens.platform)
    )
    assert warm.status_code == 200, warm.text
    statements = count_statements(runtime)
    counts = []
    for first, size in ((100, 6), (200, 60)):
        statements.clear()
        body = {"posts": posts_from(first, size)}
        done = client.post("/v1/posts/batch", json=body, headers=bearer(tokens.platform))
        assert done.status_code == 200 and done.json()["created"] == size, done.text
        counts.append(len(statements))
    assert counts[0] == counts[1], statements
    assert counts[1] < 30, statements


def caller_of(runtime: Runtime, name: str) -> Caller:
    from tanggap.auth import service as auth

    with runtime.factory() as session, session.begin():
        principal = auth.create_principal(session=session, role="platform", name=name)
        return Caller(id=principal.id, role="platform", name=name, org_id=None)


def store(
    runtime: Runtime, caller: Caller, bodies: list[dict[str, Any]], *, each: bool = False
) -> list[IngestResult | Any]:
    """Ingest post bodies as one batch from ``caller``, in a transaction of their own."""
    with runtime.factory() as session, session.begin():
        return ingest_batch(
            session=session,
            posts=[PostIn(**body) for body in bodies],
            keyring=runtime.settings.keyring,
            actor=caller.audit_actor,
            inspector=runtime.pipeline,
            owner_id=caller.id,
            each=each,
        )


def test_each_refused_post_stands_alone_and_the_rest_is_stored(runtime: Runtime) -> None:
    owner, other = caller_of(runtime, "owner"), caller_of(runtime, "other")
    first = [post_body(channel="milik", message_id=1, text="Punya pemilik")]
    store(runtime, owner, first, each=True)
    before = row_counts(runtime)
    outcomes = store(
        runtime,
        other,
        [
            post_body(channel="milik", message_id=2, text="Baru satu"),
            post_body(channel="milik", message_id=1, text="Bukan miliknya"),
            post_body(
                channel="milik",
                message_id=3,
                media=[{"data": base64.b64encode(JPEG[:3000]).decode()}],
            ),
            post_body(channel="milik", message_id=4, text="Baru dua"),
            post_body(channel="milik", message_id=4, text="Baru dua, diedit"),
        ],
        each=True,
    )
    kinds = [type(outcome) for outcome in outcomes]
    assert kinds == [IngestResult, Conflict, InvalidInput, IngestResult, IngestResult]
    assert outcomes[2].field == "media.0.data"
    assert [(o.created, o.changed) for o in outcomes if isinstance(o, IngestResult)] == [
        (True, []),
        (True, []),
        (False, ["text"]),
    ]
    after = row_counts(runtime)
    assert after["posts"] == before["posts"] + 2
    with runtime.engine.connect() as conn:
        texts = dict(conn.execute(text("SELECT message_id, text FROM posts")).all())
    assert texts == {1: "Punya pemilik", 2: "Baru satu", 4: "Baru dua, diedit"}


def test_all_or_none_names_the_first_refused_post(runtime: Runtime) -> None:
    owner, other = caller_of(runtime, "owner"), caller_of(runtime, "other")
    store(runtime, owner, [post_body(channel="milik", message_id=1)])
    before = row_counts(runtime)
    with pytest.raises(Conflict) as refused, runtime.factory() as session, session.begin():
        ingest_batch(
            session=session,
            posts=[PostIn(**post_body(channel="milik", message_id=n)) for n in (5, 1)],
            keyring=runtime.settings.keyring,
            actor=other.audit_actor,
            inspector=runtime.pipeline,
            owner_id=other.id,
        )
    assert refused.value.field == "posts.1.message_id"
    assert row_counts(runtime) == before
    # The first refused post in the batch's order is named, whatever the check that refuses it.
    corrupt = [{"data": base64.b64encode(JPEG[:3000]).decode()}]
    with pytest.raises(TanggapError) as first, runtime.factory() as session, session.begin():
        ingest_batch(
            session=session,
            posts=[
                PostIn(**post_body(channel="milik", message_id=1, text="bukan miliknya")),
                PostIn(**post_body(channel="milik", message_id=2, media=corrupt)),
            ],
            keyring=runtime.settings.keyring,
            actor=other.audit_actor,
            inspector=runtime.pipeline,
            owner_id=other.id,
        )
    assert first.value.field == "posts.0.message_id"
    assert row_counts(runtime) == before


def writes_posts(statement: str, parameters: Any) -> bool:
    """Whether a statement is a batch's first step in writing its new posts on PostgreSQL (the
    ids taken for them; the rows follow by COPY)."""
    return "pg_get_serial_sequence" in statement and parameters.get("name") == "posts"


def test_a_post_stored_meanwhile_by_another_transaction_becomes_a_resend(
    runtime: Runtime, database_backend: tuple[str, str]
) -> None:
    if database_backend[0] != "postgresql":
        pytest.skip("SQLite has one writer: no other transaction stores a post meanwhile")
    owner = caller_of(runtime, "owner")
    store(runtime, owner, [post_body(channel="balapan", message_id=99)])  # the channel exists
    raced: list[list[IngestResult | Any]] = []
    racing = []

    def meanwhile(conn: Connection, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if writes_posts(statement, parameters) and not racing:
            racing.append(True)  # once: the other transaction's own insert passes
            first = [post_body(channel="balapan", message_id=2, text="Lebih dulu")]
            raced.append(store(runtime, owner, first))

    event.listen(runtime.engine, "before_cursor_execute", meanwhile)
    try:
        outcomes = store(
            runtime,
            owner,
            [
                post_body(channel="balapan", message_id=1, text="Satu"),
                post_body(channel="balapan", message_id=2, text="Kedua kalinya"),
            ],
        )
    finally:
        event.remove(runtime.engine, "before_cursor_execute", meanwhile)
    assert raced and raced[0][0].created
    assert [(o.created, o.changed) for o in outcomes] == [(True, []), (False, ["text"])]
    with runtime.engine.connect() as conn:
        rows = conn.execute(text("SELECT message_id, text FROM posts ORDER BY message_id")).all()
        ingested = conn.execute(
            text("SELECT COUNT(*) FROM audit_events WHERE action = 'post.ingested'")
        ).scalar_one()
    assert [tuple(r) for r in rows] == [(1, "Satu"), (2, "Kedua kalinya"), (99, "Halo semua")]
    assert ingested == 3


def test_a_bank_entry_added_while_a_batch_is_screened_still_catches_its_post(
    runtime: Runtime, client: TestClient, tokens: Tokens, database_backend: tuple[str, str]
) -> None:
    if database_backend[0] != "postgresql":
        pytest.skip("SQLite has one writer: no entry is added while a batch is written")
    made = client.post(
        "/v1/banks",
        json={"name": "late", "category": "terrorism", "policy": "auto_remove"},
        headers=bearer(tokens.admin),
    )
    assert made.status_code == 201, made.text
    added = []

    def meanwhile(conn: Connection, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if writes_posts(statement, parameters) and not added:
            added.append(True)  # screened already: the entry comes before the posts are stored
            with runtime.factory() as session, session.begin():
                bank = banks.get(session=session, name="late")
                entry = EntryIn(kind="md5", value=BANNED)
                banks.add_entries(session=session, bank=bank, entries=[entry], actor="test")

    event.listen(runtime.engine, "before_cursor_execute", meanwhile)
    try:
        done = client.post(
            "/v1/posts/batch",
            json={
                "posts": [
                    post_body(channel="telat", message_id=1, text="Kabar biasa saja"),
                    post_body(channel="telat", message_id=2, text="Lihat", media=[{"md5": BANNED}]),
                ]
            },
            headers=bearer(tokens.platform),
        )
    finally:
        event.remove(runtime.engine, "before_cursor_execute", meanwhile)
    assert done.status_code == 200, done.text
    assert added
    with runtime.engine.connect() as conn:
        removed = conn.execute(
            text(
                "SELECT p.message_id, a.kind FROM actions a JOIN cases c ON c.id = a.case_id "
                "JOIN posts p ON p.id = c.post_id"
            )
        ).all()
    assert [tuple(row) for row in removed] == [(2, "remove_post")]
