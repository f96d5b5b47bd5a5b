"""The cascade: a removal reaches near-copies across channels; re-uploads are flagged on ingest."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tanggap.runtime import Runtime
from tests.factories import (
    Tokens,
    bearer,
    decision_body,
    post_body,
    report_body,
    row_counts,
    run_triage,
)

SCAM = (
    "Selamat! Nomor anda memenangkan hadiah undian mobil dari bank. Kirim kode OTP dan PIN "
    "anda ke admin resmi kami sekarang juga sebelum hangus"
)
COPY = (
    "SELAMAT!! nomor kamu memenangkan hadiah undian mobil dari bank. kirim kode OTP dan PIN "
    "anda ke admin resmi kami skrg juga sebelum hangus ya"
)
OTHER = "Harga cabai rawit di pasar tradisional naik menjelang musim hujan, kata pedagang"


def ingest(client: TestClient, tokens: Tokens, channel: str, message_id: int, text: str) -> None:
    answer = client.post(
        "/v1/posts",
        json=post_body(channel=channel, message_id=message_id, text=text),
        headers=bearer(tokens.platform),
    )
    assert answer.status_code == 201, answer.text


def removed_case(client: TestClient, tokens: Tokens) -> str:
    """Report kanal_a/1 and remove it; return its case id."""
    receipt = client.post(
        "/v1/reports", json=report_body("t.me/kanal_a/1"), headers=bearer(tokens.flagger)
    ).json()
    case_id = str(receipt["case_id"])
    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    decided = client.post(
        f"/v1/cases/{case_id}/decision", json=decision_body(), headers=bearer(tokens.reviewer)
    )
    assert decided.status_code == 201, decided.text
    return case_id


def seeded(client: TestClient, tokens: Tokens) -> None:
    ingest(client, tokens, "kanal_a", 1, SCAM)
    ingest(client, tokens, "kanal_b", 7, COPY)
    ingest(client, tokens, "kanal_c", 9, SCAM + " !!!")
    ingest(client, tokens, "kanal_d", 3, OTHER)


def apply(client: TestClient, token: str, case_id: str, **body: Any) -> Any:
    return client.post(
        f"/v1/cases/{case_id}/near-duplicates/apply", json=body, headers=bearer(token)
    )


def test_a_removal_attaches_near_copies_and_one_decision_covers_them(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    seeded(client, tokens)
    case_id = removed_case(client, tokens)
    listed = client.get(f"/v1/cases/{case_id}/near-duplicates", headers=bearer(tokens.reviewer))
    found = {(d["channel"], d["message_id"]): d for d in listed.json()}
    assert set(found) == {("kanal_b", 7), ("kanal_c", 9)}
    assert all(d["similarity"] >= 0.6 and d["state"] == "attached" for d in found.values())
    assert client.get("/c/kanal_b/7").status_code == 200

    done = apply(client, tokens.reviewer2, case_id)
    assert done.status_code == 200, done.text
    assert [r["state"] for r in done.json()["results"]] == ["applied", "applied"]
    for path in ("/c/kanal_b/7", "/c/kanal_c/9"):
        assert client.get(path).status_code == 410
    assert client.get("/c/kanal_d/3").status_code == 200
    again = apply(client, tokens.reviewer2, case_id)
    assert again.json() == {"results": []}  # nothing attached is left; nothing is removed twice
    target = done.json()["results"][0]["case_id"]
    shown = client.get(f"/v1/cases/{target}", headers=bearer(tokens.reviewer)).json()
    assert shown["state"] == "decided" and shown["automated"]


def test_the_cascade_skips_a_copy_another_reviewer_holds(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    seeded(client, tokens)
    held = client.post(
        "/v1/reports", json=report_body("t.me/kanal_b/7"), headers=bearer(tokens.flagger)
    ).json()["case_id"]
    client.post(f"/v1/cases/{held}/claim", headers=bearer(tokens.reviewer2))
    case_id = removed_case(client, tokens)
    results = {r["state"]: r for r in apply(client, tokens.reviewer, case_id).json()["results"]}
    assert results["skipped"]["reason"] == "held by another reviewer"
    assert results["applied"]["case_id"] != held
    assert client.get("/c/kanal_b/7").status_code == 200


def test_bad_cascade_requests_are_refused_and_write_nothing(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    seeded(client, tokens)
    receipt = client.post(
        "/v1/reports", json=report_body("t.me/kanal_a/1"), headers=bearer(tokens.flagger)
    ).json()
    before = row_counts(runtime)
    undecided = apply(client, tokens.reviewer, receipt["case_id"])
    assert undecided.status_code == 409
    assert row_counts(runtime) == before
    case_id = removed_case(client, tokens)
    before = row_counts(runtime)
    ghost = "00000000-0000-4000-8000-000000000000"
    unknown = apply(client, tokens.reviewer, case_id, link_ids=[ghost])
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "link_ids"
    assert apply(client, tokens.flagger, case_id).status_code == 403
    assert row_counts(runtime) == before


def test_a_reupload_of_removed_content_is_flagged_and_queued(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    ingest(client, tokens, "kanal_a", 1, SCAM)
    removed_case(client, tokens)
    ingest(client, tokens, "kanal_e", 5, COPY)  # arrives after the removal
    found = client.get("/v1/posts/kanal_e/5/signals", headers=bearer(tokens.reviewer)).json()
    signals = [s for s in found if s["kind"] == "near_duplicate"]  # the OTP rule flags it too
    assert [(s["kind"], s["source"]) for s in signals] == [("near_duplicate", "removed_content")]
    assert signals[0]["score"] >= 0.6 and signals[0]["detail"]["of"].endswith("/kanal_a/1")
    run_triage(runtime)
    listed = client.get("/v1/cases?category=fraud", headers=bearer(tokens.reviewer)).json()
    (case,) = [c for c in listed["cases"] if c["post"]["channel"] == "kanal_e"]
    assert case["automated"]
    factors = {f["factor"]: f for f in case["priority_explained"]["factors"]}
    assert factors["signals"]["minutes"] > 0 and factors["source"]["value"] == "automated"
    assert (
        client.get("/v1/posts/kanal_d/3/signals", headers=bearer(tokens.reviewer)).status_code
        == 404
    )
    assert (
        client.get("/v1/posts/kanal_e/5/signals", headers=bearer(tokens.flagger)).status_code == 403
    )


def test_a_removal_can_fill_a_bank_so_re_uploads_are_caught_on_ingest(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    from sqlalchemy import text

    for name, policy in (("scam-texts", "review"), ("scam-auto", "auto_remove")):
        made = client.post(
            "/v1/banks",
            json={"name": name, "category": "fraud", "policy": policy},
            headers=bearer(tokens.admin),
        )
        assert made.status_code == 201
    ingest(client, tokens, "kanal_a", 1, SCAM)
    receipt = client.post(
        "/v1/reports", json=report_body("t.me/kanal_a/1"), headers=bearer(tokens.flagger)
    ).json()
    case_id = receipt["case_id"]
    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer))
    before = row_counts(runtime)
    for bad, field, status in (
        ({"add_to_bank": "no-such-bank"}, "add_to_bank", 422),
        ({"outcome": "no_violation", "add_to_bank": "scam-texts"}, "add_to_bank", 422),
        (
            {"outcome": "geo_restrict", "countries": ["ID"], "add_to_bank": "scam-texts"},
            "add_to_bank",
            422,
        ),
        ({"add_to_bank": "scam-auto"}, "add_to_bank", 403),  # removes on sight: a lead's call
    ):
        refused = client.post(
            f"/v1/cases/{case_id}/decision",
            json=decision_body(**bad),
            headers=bearer(tokens.reviewer),
        )
        assert refused.status_code == status, refused.text
        assert refused.json()["error"]["field"] == field
    assert row_counts(runtime) == before

    decided = client.post(
        f"/v1/cases/{case_id}/decision",
        json=decision_body(add_to_bank="scam-texts"),
        headers=bearer(tokens.reviewer),
    )
    assert decided.status_code == 201, decided.text
    with runtime.engine.connect() as conn:
        label, kind = conn.execute(text("SELECT label, kind FROM bank_entries")).one()
    assert kind == "minhash" and label == f"case {case_id}"
    ingest(client, tokens, "kanal_z", 5, COPY)  # a new channel re-uploads an edited copy
    signals = client.get("/v1/posts/kanal_z/5/signals", headers=bearer(tokens.reviewer)).json()
    assert any(s["source"] == "bank:scam-texts" for s in signals)

    # The removal is appealed and reversed: what it put into the bank comes out again.
    client.post(
        "/v1/appeals",
        json={"channel": "kanal_a", "message_id": 1, "reason": "A real prize."},
        headers=bearer(tokens.platform),
    )
    client.post(f"/v1/cases/{case_id}/claim", headers=bearer(tokens.reviewer2))
    reversed_ = client.post(
        f"/v1/cases/{case_id}/decision",
        json={"outcome": "reverse", "explanation": "The draw is real."},
        headers=bearer(tokens.reviewer2),
    )
    assert reversed_.status_code == 201, reversed_.text
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM bank_entries")).scalar_one() == 0


def test_a_short_caption_does_not_go_into_a_bank(
    client: TestClient, tokens: Tokens, runtime: Runtime
) -> None:
    from sqlalchemy import text

    client.post(
        "/v1/banks",
        json={"name": "imgs", "category": "fraud", "policy": "review"},
        headers=bearer(tokens.admin),
    )
    answer = client.post(
        "/v1/posts",
        json=post_body(
            channel="kanal_a", message_id=1, text="Selamat pagi semua", media=[{"md5": "ab" * 16}]
        ),
        headers=bearer(tokens.platform),
    )
    assert answer.status_code == 201
    receipt = client.post(
        "/v1/reports", json=report_body("t.me/kanal_a/1"), headers=bearer(tokens.flagger)
    ).json()
    client.post(f"/v1/cases/{receipt['case_id']}/claim", headers=bearer(tokens.reviewer))
    decided = client.post(
        f"/v1/cases/{receipt['case_id']}/decision",
        json=decision_body(add_to_bank="imgs"),
        headers=bearer(tokens.reviewer),
    )
    assert decided.status_code == 201, decided.text
    with runtime.engine.connect() as conn:
        kinds = [k for (k,) in conn.execute(text("SELECT kind FROM bank_entries"))]
    assert kinds == ["md5"]  # the image's hash, not the three-word caption
