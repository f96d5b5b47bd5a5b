"""Hash banks: hashing files, banks from the command line and the API, matching on ingest."""

from __future__ import annotations

import base64
import re
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from tanggap.jobs import scan_round
from tanggap.runtime import Runtime
from tanggap.screening.scans import run_batch
from tests.commands import tanggap
from tests.factories import Tokens, bearer, post_body, row_counts
from tests.shared_data import PDQ_REFERENCE as REFERENCE


def image(name: str) -> str:
    return base64.b64encode((REFERENCE / name).read_bytes()).decode()


def test_tanggap_hash_prints_one_line_per_file(database_url: str, tmp_path: Path) -> None:
    done = tanggap(
        "hash",
        str(REFERENCE / "aaa-orig.jpg"),
        str(REFERENCE / "bridge-1-original.jpg"),
        database_url=database_url,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2
    pattern = r"pdq=[0-9a-f]{64} quality=\d+ md5=[0-9a-f]{32} sha256=[0-9a-f]{64} \S+\.jpg"
    assert all(re.fullmatch(pattern, line) for line in lines), lines
    broken = tmp_path / "broken.jpg"
    broken.write_bytes((REFERENCE / "aaa-orig.jpg").read_bytes()[:4000])
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    bad = tanggap(
        "hash", str(broken), str(empty), str(tmp_path / "missing.jpg"), database_url=database_url
    )
    assert bad.returncode == 1 and bad.stdout == ""
    assert "corrupt" in bad.stderr and "empty" in bad.stderr and "missing.jpg" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_banks_from_the_command_line_refuse_bad_input_and_write_nothing(
    database_url: str, runtime: Runtime, tmp_path: Path
) -> None:
    made = tanggap(
        "bank",
        "create",
        "gifct-demo",
        "--category",
        "terrorism",
        "--policy",
        "auto_remove",
        database_url=database_url,
    )
    assert made.returncode == 0, made.stderr
    added = tanggap(
        "bank",
        "add",
        "gifct-demo",
        str(REFERENCE / "bridge-1-original.jpg"),
        database_url=database_url,
    )
    assert added.returncode == 0, added.stderr
    assert "10 hashes added" in added.stdout  # md5, sha256 and 8 PDQ rotations and mirrors
    again = tanggap(
        "bank",
        "add",
        "gifct-demo",
        str(REFERENCE / "bridge-1-original.jpg"),
        database_url=database_url,
    )
    assert "0 hashes added, 10 already there" in again.stdout

    with runtime.engine.connect() as conn:
        before = conn.execute(text("SELECT COUNT(*) FROM bank_entries")).scalar_one()
    flat = tmp_path / "flat.png"
    from PIL import Image

    Image.new("RGB", (64, 64), (128, 128, 128)).save(flat)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes((REFERENCE / "aaa-orig.jpg").read_bytes()[:4000])
    refusals = [
        (("bank", "add", "gifct-demo", str(REFERENCE / "aaa-orig.jpg"), str(broken)), "corrupt"),
        (("bank", "add", "gifct-demo", str(flat)), "quality"),
        (("bank", "add", "no-such-bank", str(REFERENCE / "aaa-orig.jpg")), "no bank"),
        (("bank", "add", "gifct-demo", str(tmp_path / "missing.jpg")), "missing.jpg"),
        (("bank", "create", "x1", "--category", "terrorism", "--policy", "delete"), "--policy"),
        (("bank", "create", "x2", "--category", "scams"), "unknown category"),
        (
            ("bank", "create", "x3", "--category", "fraud", "--policy", "auto_geo_restrict"),
            "countries",
        ),
        (("bank", "create", "gifct-demo", "--category", "terrorism"), "exists"),
    ]
    for args, reason in refusals:
        done = tanggap(*args, database_url=database_url)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert reason in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM bank_entries")).scalar_one() == before
        assert conn.execute(text("SELECT COUNT(*) FROM banks")).scalar_one() == 1
    listed = tanggap("bank", "list", database_url=database_url)
    assert re.search(r"gifct-demo\s+auto_remove\s+terrorism\s+10", listed.stdout)


def make_bank(client: TestClient, tokens: Tokens, policy: str, **extra: object) -> None:
    made = client.post(
        "/v1/banks",
        json={"name": f"bank-{policy}", "category": "terrorism", "policy": policy, **extra},
        headers=bearer(tokens.admin),
    )
    assert made.status_code == 201, made.text


def add_bridge(client: TestClient, tokens: Tokens, policy: str) -> None:
    hashes = tanggap_free_dihedral()
    answer = client.post(
        f"/v1/banks/bank-{policy}/entries",
        json={"entries": [{"kind": "pdq", "value": h, "label": "bridge"} for h in hashes]},
        headers=bearer(tokens.admin),
    )
    assert answer.status_code == 200 and answer.json()["added"] == len(hashes)


def tanggap_free_dihedral() -> list[str]:
    from tanggap.detectors.hashing import dihedral

    variants, _ = dihedral((REFERENCE / "bridge-1-original.jpg").read_bytes())
    return list(dict.fromkeys(variants))


def hash_media(runtime: Runtime) -> None:
    """Run the background job that PDQ-hashes images (what waits now)."""
    runtime.media.run_once()


def ingest_image(
    client: TestClient, tokens: Tokens, runtime: Runtime, message_id: int, name: str
) -> None:
    body = post_body(message_id=message_id, text="", media=[{"data": image(name)}])
    answer = client.post("/v1/posts", json=body, headers=bearer(tokens.platform))
    assert answer.status_code in (200, 201), answer.text
    hash_media(runtime)


def test_an_auto_remove_bank_takes_a_matching_upload_down_at_once_and_only_once(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    make_bank(client, tokens, "auto_remove")
    add_bridge(client, tokens, "auto_remove")
    ingest_image(client, tokens, runtime, 1, "bridge-5-flipx.jpg")  # a mirror of the banked image
    assert client.get("/c/beritakita/1").status_code == 410
    signals = client.get("/v1/posts/beritakita/1/signals", headers=bearer(tokens.reviewer)).json()
    assert signals[0]["kind"] == "hash_match" and signals[0]["source"] == "bank:bank-auto_remove"
    assert signals[0]["detail"]["distance"] <= 31
    ingest_image(client, tokens, runtime, 1, "bridge-5-flipx.jpg")  # the platform sends it again
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM actions")).scalar_one() == 1
        row = conn.execute(text("SELECT automated, state FROM cases")).one()
        stored = conn.execute(text("SELECT sha256, pdq FROM post_media")).one()
    assert bool(row[0]) and row[1] == "decided"
    assert stored[0] and stored[1]  # hashes kept; the bytes were not (no column holds them)
    ingest_image(client, tokens, runtime, 2, "aaa-orig.jpg")  # the same photo, plain: within 31 too
    assert client.get("/c/beritakita/2").status_code == 410


def test_a_review_bank_queues_the_match_for_a_reviewer(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    make_bank(client, tokens, "review")
    add_bridge(client, tokens, "review")
    ingest_image(client, tokens, runtime, 1, "bridge-3-rotate-180.jpg")
    assert client.get("/c/beritakita/1").status_code == 200
    cases = client.get("/v1/cases", headers=bearer(tokens.reviewer)).json()["cases"]
    assert [c["category"] for c in cases] == ["terrorism"] and cases[0]["automated"]


def test_bad_bank_and_media_input_is_refused_and_writes_nothing(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    make_bank(client, tokens, "review")
    before = row_counts(runtime)
    refusals = [
        (
            "/v1/banks/bank-review/entries",
            {"entries": [{"kind": "pdq", "value": "xyz" * 22}]},
            tokens.admin,
            422,
            "entries.0.value",
        ),
        (
            "/v1/banks/bank-review/entries",
            {"entries": [{"kind": "md5", "value": "a" * 64}]},
            tokens.admin,
            422,
            "entries.0.value",
        ),
        (
            "/v1/banks/no-such/entries",
            {"entries": [{"kind": "md5", "value": "a" * 32}]},
            tokens.admin,
            404,
            "bank",
        ),
        (
            "/v1/banks/bank-review/entries",
            {"entries": [{"kind": "md5", "value": "a" * 32}]},
            tokens.reviewer,
            403,
            None,
        ),
        ("/v1/banks", {"name": "bank-review", "category": "terrorism"}, tokens.admin, 409, "name"),
        (
            "/v1/banks",
            {"name": "b2", "category": "terrorism", "policy": "auto_geo_restrict"},
            tokens.admin,
            422,
            "countries",
        ),
        (
            "/v1/posts",
            post_body(media=[{"data": "not base64!"}]),
            tokens.platform,
            422,
            "media.0.data",
        ),
        (
            "/v1/posts",
            post_body(
                media=[
                    {
                        "data": base64.b64encode(
                            (REFERENCE / "aaa-orig.jpg").read_bytes()[:3000]
                        ).decode()
                    }
                ]
            ),
            tokens.platform,
            422,
            "media.0.data",
        ),
        (
            "/v1/posts",
            post_body(media=[{"data": image("aaa-orig.jpg"), "sha256": "0" * 64}]),
            tokens.platform,
            422,
            "media.0.sha256",
        ),
    ]
    for path, body, token, status, field in refusals:
        answer = client.post(path, json=body, headers=bearer(token))
        assert answer.status_code == status, (path, answer.text)
        if field:
            assert answer.json()["error"]["field"] == field, answer.text
    assert row_counts(runtime) == before


def noise_data(seed: int) -> str:
    import io

    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, size=(96, 96, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_adding_to_a_bank_scans_the_stored_posts_once(
    client: TestClient, tokens: Tokens, runtime: Runtime, database_url: str
) -> None:
    ingest_image(client, tokens, runtime, 1, "bridge-3-rotate-180.jpg")
    ingest_image(client, tokens, runtime, 2, "aaa-orig.jpg")
    body = post_body(message_id=3, text="", media=[{"data": noise_data(5)}])
    assert client.post("/v1/posts", json=body, headers=bearer(tokens.platform)).status_code == 201
    make_bank(client, tokens, "auto_remove")
    hashes = tanggap_free_dihedral()
    added = client.post(
        "/v1/banks/bank-auto_remove/entries",
        json={"entries": [{"kind": "pdq", "value": h} for h in hashes]},
        headers=bearer(tokens.admin),
    ).json()
    assert added["scan_id"]
    assert (
        client.get("/c/beritakita/1").status_code == 200
    )  # not yet: the scan runs in the background

    first = run_batch(
        factory=runtime.factory,
        pipeline=runtime.pipeline,
        scan_id=uuid.UUID(added["scan_id"]),
        size=1,
    )
    assert (first.scanned, first.finished) == (1, False)  # then the process stops: resume
    while scan_round(runtime):
        pass
    # The action dispatcher's round: the stopped batch's action was in the outbox.
    runtime.deliver_actions()
    status = client.get(f"/v1/scans/{added['scan_id']}", headers=bearer(tokens.reviewer)).json()
    assert (status["state"], status["total"], status["scanned"], status["matched"]) == (
        "done",
        3,
        3,
        2,
    )
    assert client.get("/c/beritakita/1").status_code == 410
    assert client.get("/c/beritakita/2").status_code == 410
    assert client.get("/c/beritakita/3").status_code == 200

    again = client.post("/v1/banks/bank-auto_remove/scan", headers=bearer(tokens.admin))
    assert again.status_code == 202
    while scan_round(runtime):
        pass
    rescan = client.get(f"/v1/scans/{again.json()['scan_id']}", headers=bearer(tokens.admin)).json()
    assert rescan["state"] == "done" and rescan["matched"] == 0
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM actions")).scalar_one() == 2
    cli = tanggap("scan", "--bank", "bank-auto_remove", database_url=database_url)
    assert cli.returncode == 0 and "3 posts, 0 new matches" in cli.stdout, cli.stderr
    unknown = tanggap("scan", "--bank", "nope", database_url=database_url)
    assert unknown.returncode == 2 and "no bank named 'nope'" in unknown.stderr
    assert client.post("/v1/banks/nope/scan", headers=bearer(tokens.admin)).status_code == 404


PROPAGANDA = "Bergabunglah dengan saudara kita di front timur, kirim donasi ke rekening perjuangan"


def test_a_text_bank_catches_edited_copies_on_ingest_and_in_stored_posts(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    edited_before = PROPAGANDA.replace("saudara", "sodara") + " sekarang"
    edited_after = "Ayo! " + PROPAGANDA.replace("kirim", "kirimkan").upper()
    ingest = [(1, edited_before), (2, "Jadwal kereta Bandung-Jakarta berubah mulai besok")]
    for message_id, words in ingest:
        body = post_body(message_id=message_id, text=words)
        assert (
            client.post("/v1/posts", json=body, headers=bearer(tokens.platform)).status_code == 201
        )
    make_bank(client, tokens, "auto_remove")
    added = client.post(
        "/v1/banks/bank-auto_remove/entries",
        json={"texts": [PROPAGANDA]},
        headers=bearer(tokens.admin),
    ).json()
    assert added["added"] == 1 and added["scan_id"]
    with runtime.engine.connect() as conn:
        kind, value = conn.execute(text("SELECT kind, value FROM bank_entries")).one()
    assert kind == "minhash" and len(value) == 512 and "front" not in value  # no text kept

    body = post_body(message_id=3, text=edited_after)
    assert client.post("/v1/posts", json=body, headers=bearer(tokens.platform)).status_code == 201
    assert client.get("/c/beritakita/3").status_code == 410  # on ingest
    assert client.get("/c/beritakita/1").status_code == 200  # stored before: the scan's work
    while scan_round(runtime):
        pass
    runtime.deliver_actions()
    assert client.get("/c/beritakita/1").status_code == 410
    assert client.get("/c/beritakita/2").status_code == 200
    signals = client.get("/v1/posts/beritakita/1/signals", headers=bearer(tokens.reviewer)).json()
    match = next(s for s in signals if s["kind"] == "hash_match")
    assert match["detail"]["hash"] == "minhash" and match["detail"]["media"] is None
    assert 0.6 <= match["score"] < 1

    before = row_counts(runtime)
    for bad, field in (
        ({"texts": ["   "]}, "texts.0"),
        ({"entries": [{"kind": "minhash", "value": "ab" * 32}]}, "entries.0.value"),
        ({"entries": [], "texts": []}, "entries"),
    ):
        refused = client.post(
            "/v1/banks/bank-auto_remove/entries", json=bad, headers=bearer(tokens.admin)
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == field
    assert row_counts(runtime) == before


def flat_png() -> str:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 120, 120)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_images_are_pdq_hashed_in_the_background_and_their_bytes_never_stored(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    from tanggap.detectors.hashing import hash_bytes
    from tanggap.posts.inspection import Waiting
    from tanggap.screening.media import MediaHasher

    make_bank(client, tokens, "auto_remove")
    add_bridge(client, tokens, "auto_remove")
    exact = hash_bytes((REFERENCE / "bridge-6-flipy.jpg").read_bytes()).md5
    client.post(
        "/v1/banks/bank-auto_remove/entries",
        json={"entries": [{"kind": "md5", "value": exact}]},
        headers=bearer(tokens.admin),
    )
    media = [{"data": image("bridge-5-flipx.jpg")}, {"data": flat_png()}]
    body = post_body(message_id=1, text="", media=media)
    assert client.post("/v1/posts", json=body, headers=bearer(tokens.platform)).status_code == 201
    exact_body = post_body(message_id=2, text="", media=[{"data": image("bridge-6-flipy.jpg")}])
    answer = client.post("/v1/posts", json=exact_body, headers=bearer(tokens.platform))
    assert answer.status_code == 201
    # An exact (MD5) match acts at once; the PDQ match waits for the hash.
    assert client.get("/c/beritakita/2").status_code == 410
    assert client.get("/c/beritakita/1").status_code == 200
    pending = "SELECT COUNT(*) FROM post_media WHERE pdq_pending"
    with runtime.engine.connect() as conn:
        assert conn.execute(text(pending)).scalar_one() == 3
        assert (
            conn.execute(text("SELECT COUNT(*) FROM post_media WHERE pdq IS NOT NULL")).scalar_one()
            == 0
        )
    assert runtime.media.waiting_bytes > 0  # the bytes wait in memory, in no table

    # The platform sends post 1 again meanwhile, once as it was and once with new views.
    again = client.post("/v1/posts", json=body, headers=bearer(tokens.platform))
    assert again.status_code == 200 and again.json()["changed"] == []
    viewed = client.post("/v1/posts", json={**body, "views": 101}, headers=bearer(tokens.platform))
    assert viewed.status_code == 200 and viewed.json()["changed"] == ["views"]
    hash_media(runtime)
    runtime.deliver_actions()
    assert runtime.media.waiting_bytes == 0
    assert client.get("/c/beritakita/1").status_code == 410
    with runtime.engine.connect() as conn:
        assert conn.execute(text(pending)).scalar_one() == 0
        rows = conn.execute(
            text("SELECT position, pdq, pdq_quality FROM post_media ORDER BY post_id, position")
        ).all()
        assert conn.execute(text("SELECT COUNT(*) FROM actions")).scalar_one() == 2
    (_, bridge_pdq, bridge_q), (_, flat_pdq, flat_q), (_, exact_pdq, _) = rows
    assert bridge_pdq and bridge_q >= 50
    assert flat_pdq is None and flat_q is not None and flat_q < 50  # below PDQ's quality floor
    assert exact_pdq  # hashed too, though it was already removed: the hash serves later matches

    # A restart loses the bytes of what waited; the platform's next resend brings them again.
    third = post_body(message_id=3, text="", media=[{"data": image("aaa-orig.jpg")}])
    assert client.post("/v1/posts", json=third, headers=bearer(tokens.platform)).status_code == 201
    runtime.media = MediaHasher(
        runtime.factory, runtime.pipeline, runtime.deliver_actions
    )  # restart
    assert hash_media_count(runtime) == 0
    assert client.post("/v1/posts", json=third, headers=bearer(tokens.platform)).status_code == 200
    assert hash_media_count(runtime) == 1
    runtime.deliver_actions()
    assert client.get("/c/beritakita/3").status_code == 410  # the same photo as the bridge bank

    # Bytes that will not decode leave an audit event and no hash.
    with runtime.engine.connect() as conn:
        media_id = conn.execute(text("SELECT id FROM post_media WHERE position = 1")).scalar_one()
        conn.execute(
            text("UPDATE post_media SET pdq_pending = true WHERE id = :i"), {"i": media_id}
        )
        conn.commit()
    runtime.media.submit([Waiting(media_id=media_id, data=b"GIF89a broken beyond repair")])
    hash_media(runtime)
    with runtime.engine.connect() as conn:
        assert conn.execute(text(pending)).scalar_one() == 0
        failed = conn.execute(
            text("SELECT data FROM audit_events WHERE action = 'media.unhashable'")
        ).scalar_one()
    assert "not an image PDQ can read" in failed


def hash_media_count(runtime: Runtime) -> int:
    return runtime.media.run_once()


def test_too_many_waiting_images_ask_the_platform_to_retry(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    runtime.media.max_bytes = 1000  # a tiny queue
    before = row_counts(runtime)
    body = post_body(message_id=1, text="", media=[{"data": image("aaa-orig.jpg")}])
    busy = client.post("/v1/posts", json=body, headers=bearer(tokens.platform))
    assert busy.status_code == 503 and busy.json()["error"]["code"] == "unavailable"
    assert row_counts(runtime) == before


def test_two_transactions_adding_the_same_hash_both_succeed(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    """The second waits for the first (on PostgreSQL at the conflicting row, on SQLite at its
    BEGIN IMMEDIATE) and then finds the hash there: no error."""
    import threading

    from tanggap.banks import service as banks
    from tanggap.banks.schemas import EntryIn

    make_bank(client, tokens, "review")
    entry = [EntryIn(kind="md5", value="ab" * 16)]
    results: list[tuple[int, int]] = []
    with runtime.factory() as first, first.begin():
        bank = banks.get(session=first, name="bank-review")
        results.append(banks.add_entries(session=first, bank=bank, entries=entry, actor="t:1"))

        def second() -> None:
            with runtime.factory() as other, other.begin():
                found = banks.get(session=other, name="bank-review")
                results.append(
                    banks.add_entries(session=other, bank=found, entries=entry, actor="t:2")
                )

        worker = threading.Thread(target=second)
        worker.start()
        worker.join(timeout=1)
        assert worker.is_alive()  # waiting on the first transaction's row
    worker.join(timeout=30)
    assert results == [(1, 0), (0, 1)]
