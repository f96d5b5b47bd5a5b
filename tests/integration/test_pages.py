"""The built-in public channel pages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import Tokens, bearer, post_body


def test_home_lists_channels_and_a_channel_lists_its_posts_newest_first(
    client: TestClient, tokens: Tokens
) -> None:
    client.post(
        "/v1/channels",
        json={"handle": "beritakita", "title": "Berita Kita", "subscribers": 12000},
        headers=bearer(tokens.platform),
    )
    for message_id, words in [(1, "pertama"), (2, "kedua"), (3, "ketiga")]:
        client.post(
            "/v1/posts",
            json=post_body(message_id=message_id, text=f"Pesan {words}"),
            headers=bearer(tokens.platform),
        )
    home = client.get("/")
    assert home.status_code == 200 and "@beritakita" in home.text and "12,000" in home.text
    page = client.get("/c/BeritaKita")
    assert page.status_code == 200 and "Berita Kita" in page.text
    positions = [page.text.index(f"Pesan {w}") for w in ("ketiga", "kedua", "pertama")]
    assert positions == sorted(positions)
    single = client.get("/c/beritakita/2")
    assert single.status_code == 200 and "Pesan kedua" in single.text
    assert "Pesan ketiga" not in single.text


def test_long_channels_page_backwards(client: TestClient, tokens: Tokens) -> None:
    for message_id in range(1, 26):
        client.post(
            "/v1/posts",
            json=post_body(message_id=message_id, text=f"nomor-{message_id:02d}"),
            headers=bearer(tokens.platform),
        )
    first = client.get("/c/beritakita").text
    assert "nomor-25" in first and "nomor-06" in first and "nomor-05" not in first
    assert "?before=6" in first
    older = client.get("/c/beritakita?before=6").text
    assert "nomor-05" in older and "nomor-01" in older and "nomor-06" not in older


def test_missing_things_and_bad_countries_get_clear_pages(
    client: TestClient, tokens: Tokens
) -> None:
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    missing_channel = client.get("/c/nobodyhere")
    assert missing_channel.status_code == 404 and "no channel @nobodyhere" in missing_channel.text
    missing_post = client.get("/c/beritakita/99")
    assert missing_post.status_code == 404 and "has no post 99" in missing_post.text
    assert client.get("/c/bad!handle").status_code == 404
    bad_country = client.get("/c/beritakita/1?country=Indonesia")
    assert bad_country.status_code == 400 and "country" in bad_country.text
    bad_header = client.get("/c/beritakita", headers={"X-Viewer-Country": "X1"})
    assert bad_header.status_code == 400 and "X-Viewer-Country" in bad_header.text
    assert client.get("/c/beritakita/abc").status_code == 404
    assert client.get("/c/beritakita/²").status_code == 404
    assert client.get("/c/beritakita?before=100000000000000000000000").status_code == 422
    for written in ("1_0", "١٢"):  # before: read as 10 and 12
        assert client.get(f"/c/beritakita?before={written}").status_code == 422


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


def test_openapi_documents_the_v1_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/v1/posts",
        "/v1/channels",
        "/v1/reports",
        "/v1/reports/{report_id}",
        "/v1/cases",
        "/v1/cases/{case_id}/claim",
        "/v1/cases/{case_id}/decision",
    ):
        assert path in spec["paths"], path
    assert client.get("/docs").status_code == 200


def test_unknown_routes_and_methods_answer_json_errors(client: TestClient) -> None:
    missing = client.get("/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = client.delete("/v1/reports")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


def test_metrics_count_what_was_committed(client: TestClient, tokens: Tokens) -> None:
    def sample(name: str, **labels: str) -> float:
        wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
        scraped = client.get("/metrics", headers=bearer(tokens.admin))
        assert scraped.status_code == 200
        for line in scraped.text.splitlines():
            if line.startswith(f"{name}{{{wanted}}} "):
                return float(line.split()[-1])
        return 0.0

    before = sample("tanggap_reports_received_total", category="drugs", order_type="notice")
    client.post("/v1/posts", json=post_body(), headers=bearer(tokens.platform))
    body = {"target": "t.me/beritakita/1", "category": "drugs"}
    client.post("/v1/reports", json=body, headers=bearer(tokens.flagger))
    client.post("/v1/reports", json=body, headers=bearer(tokens.flagger))  # duplicate
    client.post("/v1/reports", json={**body, "category": "x"}, headers=bearer(tokens.flagger))
    after = sample("tanggap_reports_received_total", category="drugs", order_type="notice")
    assert after - before == 1
    assert client.get("/metrics", headers=bearer(tokens.flagger)).status_code == 403
    timed = sample(
        "tanggap_http_request_duration_seconds_count",
        method="POST", route="/v1/reports", status="202",
    )  # fmt: skip
    assert timed >= 1
