"""Hash lists in threatexchange's formats: what Meta's own library writes loads here, and what
Tanggap exports loads there."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text
from threatexchange.exchanges.impl.file_api import (
    FileCollaborationConfig,
    LocalFileSignalExchangeAPI,
)
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.signal_type.raw_text import RawTextSignal
from threatexchange.signal_type.sha256 import VideoSHA256Signal
from threatexchange.signal_type.signal_base import SignalType
from threatexchange.signal_type.url import URLSignal

from tanggap.runtime import Runtime
from tests.commands import tanggap
from tests.factories import Tokens, bearer, row_counts
from tests.integration.test_banks import ingest_image, make_bank, tanggap_free_dihedral

TEXT = "Bergabunglah dengan saudara kita di front timur, kirim donasi ke rekening perjuangan"
MD5 = "0123456789abcdef0123456789abcdef"
TE_TYPES = {t.get_name(): t for t in (PdqSignal, VideoMD5Signal, VideoSHA256Signal)}


def te_file(path: Path, signals: list[tuple[type[SignalType], str]]) -> Path:
    """Write a signal file as threatexchange's file exchange does (``<type name> <signal>``,
    the names from the library's signal types), and check that the library reads it back."""
    lines = [f"{t.get_name()} {value}" for t, value in signals]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert te_read(path) == {(t.get_name(), value) for t, value in signals}
    return path


def te_read(path: Path) -> set[tuple[str, str]]:
    """Read a signal file with threatexchange's file exchange."""
    api = LocalFileSignalExchangeAPI(FileCollaborationConfig(filename=str(path), name="tx"))
    found: set[tuple[str, str]] = set()
    for delta in api.fetch_iter([], None):
        found.update(delta.updates)
    return found


def test_a_list_written_by_threatexchange_loads_and_matches(
    client: TestClient, tokens: Tokens, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    bridge = tanggap_free_dihedral()
    listed = te_file(
        tmp_path / "gifct.txt",
        [(PdqSignal, h) for h in bridge]
        + [(VideoMD5Signal, MD5), (RawTextSignal, TEXT), (URLSignal, "https://example.net/x")],
    )
    make_bank(client, tokens, "auto_remove")
    before = row_counts(runtime)
    refused = tanggap("bank", "import", "bank-auto_remove", str(listed), database_url=database_url)
    assert refused.returncode == 2 and "signal type 'url'" in refused.stderr
    assert "line" in refused.stderr and row_counts(runtime) == before

    done = tanggap(
        "bank",
        "import",
        "bank-auto_remove",
        str(listed),
        "--skip-unsupported",
        database_url=database_url,
    )
    assert done.returncode == 0, done.stderr
    assert f"{len(bridge) + 2} added, 0 already there; skipped 1 url" in done.stdout
    again = tanggap(
        "bank",
        "import",
        "bank-auto_remove",
        str(listed),
        "--skip-unsupported",
        database_url=database_url,
    )
    assert f"0 added, {len(bridge) + 2} already there" in again.stdout
    with runtime.engine.connect() as conn:
        kinds = dict(
            conn.execute(text("SELECT kind, COUNT(*) FROM bank_entries GROUP BY kind")).all()
        )
    assert kinds == {"pdq": len(bridge), "md5": 1, "minhash": 1}
    ingest_image(client, tokens, runtime, 1, "bridge-5-flipx.jpg")
    assert client.get("/c/beritakita/1").status_code == 410


def test_an_export_loads_in_threatexchange_and_back_here(
    client: TestClient, tokens: Tokens, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    make_bank(client, tokens, "review")
    bridge = tanggap_free_dihedral()
    entries = [{"kind": "pdq", "value": h} for h in bridge] + [{"kind": "md5", "value": MD5}]
    added = client.post(
        "/v1/banks/bank-review/entries",
        json={"entries": entries, "texts": [TEXT]},
        headers=bearer(tokens.admin),
    )
    assert added.json()["added"] == len(bridge) + 2

    exported = client.get("/v1/banks/bank-review/export", headers=bearer(tokens.admin))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/plain")
    (tmp_path / "out.txt").write_text(exported.text, encoding="utf-8")
    read = te_read(tmp_path / "out.txt")
    assert {(t, s) for t, s in read if t != "tanggap_minhash"} == {("pdq", h) for h in bridge} | {
        ("video_md5", MD5)
    }
    for signal_type, signal in read:
        if signal_type in TE_TYPES:  # threatexchange's own validation accepts every hash
            assert TE_TYPES[signal_type].validate_signal_str(signal) == signal
    assert (
        client.get("/v1/banks/bank-review/export", headers=bearer(tokens.reviewer)).status_code
        == 403
    )

    as_csv = client.get("/v1/banks/bank-review/export?format=te-csv", headers=bearer(tokens.admin))
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert list(rows[0]) == ["signal_type", "signal_str", "collab", "category", "tags"]
    assert {r["category"] for r in rows} == {"POSITIVE_CLASS"} and len(rows) == len(bridge) + 2
    negative = as_csv.text + f"video_md5,{'f' * 32},other,NEGATIVE_CLASS,\n"

    make_bank(client, tokens, "auto_remove")
    loaded = client.post(
        "/v1/banks/bank-auto_remove/import",
        content=negative.encode(),
        headers={**bearer(tokens.admin), "content-type": "text/csv"},
    ).json()
    assert (loaded["added"], loaded["not_positive"], loaded["unsupported"]) == (
        len(bridge) + 2,
        1,
        {},
    )
    assert loaded["scan_id"]
    cli = tanggap(
        "bank", "export", "bank-auto_remove", "--format", "te-csv", database_url=database_url
    )
    assert cli.returncode == 0
    assert sorted(cli.stdout.splitlines()[1:]) == sorted(
        line.replace("bank-review", "bank-auto_remove") for line in as_csv.text.splitlines()[1:]
    )


def test_bad_lists_are_refused_naming_the_line_and_write_nothing(
    client: TestClient, tokens: Tokens, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    make_bank(client, tokens, "review")
    before = row_counts(runtime)
    good = "pdq " + tanggap_free_dihedral()[0]
    for body, message in (
        (f"{good}\nvideo_md5 {MD5}\npdq 12345\n", "line 3: a pdq hash is 64 hex digits"),
        (f"{good}\npdq\n", "line 2: a pdq line without its signal"),
        ("vpdq abc\n", "line 1: signal type 'vpdq'"),
        ("\n\n", "holds no signals"),
        ("signal_type,nope\npdq,x\n", "line 1: the CSV header lacks signal_str"),
        ("raw_text !!!\n", "line 1: raw_text has no words"),
    ):
        refused = client.post(
            "/v1/banks/bank-review/import", content=body.encode(), headers=bearer(tokens.admin)
        )
        assert refused.status_code == 422, body
        assert refused.json()["error"]["field"] == "file"
        assert message in refused.json()["error"]["message"], refused.text
    binary = client.post(
        "/v1/banks/bank-review/import", content=b"\xff\xfe\x00pdq", headers=bearer(tokens.admin)
    )
    assert binary.status_code == 422 and binary.json()["error"]["field"] == "body"
    wrong = client.post(
        "/v1/banks/bank-review/import?format=xml",
        content=good.encode(),
        headers=bearer(tokens.admin),
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "format"
    missing = client.post(
        "/v1/banks/nope/import", content=good.encode(), headers=bearer(tokens.admin)
    )
    assert missing.status_code == 404
    as_reviewer = client.post(
        "/v1/banks/bank-review/import", content=good.encode(), headers=bearer(tokens.reviewer)
    )
    assert as_reviewer.status_code == 403
    assert row_counts(runtime) == before

    (tmp_path / "bad.txt").write_text(f"{good}\npdq zz\n", encoding="utf-8")
    cli = tanggap(
        "bank", "import", "bank-review", str(tmp_path / "bad.txt"), database_url=database_url
    )
    assert cli.returncode == 2 and "line 2" in cli.stderr
    gone = tanggap(
        "bank", "import", "bank-review", str(tmp_path / "none.txt"), database_url=database_url
    )
    assert gone.returncode == 2 and "none.txt" in gone.stderr
    fmt = tanggap("bank", "export", "bank-review", "--format", "xml", database_url=database_url)
    assert fmt.returncode == 2 and "--format" in fmt.stderr
    assert row_counts(runtime) == before


def test_a_quoted_csv_header_in_any_column_order_is_read_as_csv() -> None:
    from tanggap.banks import exchange

    pdq = tanggap_free_dihedral()[0]
    content = f'"collab","signal_str","signal_type"\r\nx,{pdq},pdq\r\n'
    parsed = exchange.parse(content)
    assert [(e.kind, e.value) for e in parsed.entries] == [("pdq", pdq)]
