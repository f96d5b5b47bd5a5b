"""A month of moderation for the transparency report, built through the API, its times then
pinned so that every figure can be computed by hand (the figures are in the test)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tanggap.appeals.models import Appeal
from tanggap.cases.models import Case, Decision
from tanggap.config import Settings
from tanggap.detection.models import Signal
from tanggap.reports.models import Report
from tanggap.runtime import Runtime, build_runtime
from tanggap.server import create_app
from tests.factories import REMOVAL_ORDER, Tokens, bearer, decision_body, post_body, report_body

SINCE = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = datetime(2026, 4, 1, tzinfo=UTC)
T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)

# Detection: one rule opens a case for a reviewer, one removes at once.
RULES = """version: 1
rules:
  - id: test.review-me
    category: drugs
    keywords: [sabu murah]
    effect: {open_case: true}
  - id: test.take-down
    category: terrorism
    keywords: [baiat kilat]
    effect: {auto_remove: true}
"""
# Texts far apart from each other (no near-copies) that the packaged classifier leaves alone.
TEXTS = {
    1: "Catatan harian nomor satu tentang cuaca pagi di pelabuhan",
    2: "Resep kue lapis legit nenek untuk hari raya",
    3: "Jadwal kereta api ekspres Bandung ke Surabaya bulan depan",
    4: "Ulasan buku sejarah kerajaan Majapahit yang baru terbit",
    5: "Hasil pertandingan sepak bola liga lokal akhir pekan",
    6: "Foto matahari terbenam di pantai Kuta kemarin sore",
    7: "Cara membuat layang-layang dari bambu dan kertas minyak",
    8: "Pameran lukisan modern dibuka di galeri kota minggu ini",
    9: "Ada sabu murah, pesan lewat DM",
    10: "Ikuti baiat kilat malam ini di markas",
    11: "Festival musik keroncong digelar di alun-alun kota",
    12: "Panduan mendaki gunung Rinjani untuk pemula",
}


@pytest.fixture
def ruled(settings: Settings, tmp_path: Path) -> Iterator[tuple[Runtime, TestClient]]:
    """An app whose detection runs the two rules above (and no packaged rule)."""
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "test.yaml").write_text(RULES, encoding="utf-8")
    runtime = build_runtime(settings.model_copy(update={"rules_dir": rules_dir}))
    with TestClient(create_app(runtime=runtime, run_dispatcher=False)) as client:
        yield runtime, client
    runtime.close()


@dataclass
class World:
    """The ids the tests look for."""

    reports: dict[str, str]
    cases: dict[str, str]


def _ok(answer: Any, status: int = 201) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    return body


def build_world(runtime: Runtime, client: TestClient, tokens: Tokens) -> World:
    """Build the month: three removal orders from two countries, flagger notices, user
    reports, two detections (one removed on sight), decisions of every kind, an appeal upheld
    and one reversed, a channel banned; and a report on each side of the month."""
    for message_id, text in TEXTS.items():
        _ok(
            client.post(
                "/v1/posts",
                json=post_body(message_id=message_id, text=text),
                headers=bearer(tokens.platform),
            )
        )
    _ok(
        client.post(
            "/v1/posts",
            json=post_body(
                channel="kanaljudi",
                message_id=1,
                text="Pengumuman jadwal arisan warga di kanal kami bulan ini",
            ),
            headers=bearer(tokens.platform),
        )
    )
    sent = {
        "R1": (tokens.flagger, 1, "terrorism", REMOVAL_ORDER),
        "R2": (tokens.flagger_other_org, 2, "terrorism", REMOVAL_ORDER),
        "R3": (tokens.flagger, 3, "drugs", REMOVAL_ORDER),
        "N1": (tokens.flagger, 4, "fraud", {}),
        "N2": (tokens.flagger_other_org, 5, "hate_speech", {}),
        "N3": (tokens.platform, 6, "fraud", {"reporter_id": "user-3"}),
        "N4": (tokens.flagger, 7, "disinformation", {}),
        "N5": (tokens.platform, 8, "other", {"reporter_id": "user-5"}),
        "N6": (tokens.platform, 10, "terrorism", {"reporter_id": "user-6"}),
        "N7": (tokens.flagger, "kanaljudi/1", "illegal_gambling", {}),
        "N8": (tokens.platform, 11, "fraud", {"reporter_id": "user-8"}),
        "N9": (tokens.platform, 12, "other", {"reporter_id": "user-9"}),
    }
    reports: dict[str, str] = {}
    cases: dict[str, str] = {}
    for name, (token, target, category, extra) in sent.items():
        link = f"t.me/{target}" if isinstance(target, str) else f"t.me/beritakita/{target}"
        receipt = _ok(
            client.post(
                "/v1/reports", json=report_body(link, category, **extra), headers=bearer(token)
            ),
            202,
        )
        reports[name], cases[name] = receipt["report_id"], receipt["case_id"]
    by_post = {
        c["post"]["message_id"]: c["case_id"]
        for c in _ok(
            client.get(
                "/v1/cases?state=open&state=decided&limit=100", headers=bearer(tokens.admin)
            ),
            200,
        )["cases"]
        if c["automated"]
    }
    cases["A1"], cases["A2"] = by_post[9], by_post[10]

    def decide(case: str, outcome: str = "remove", token: str = tokens.reviewer) -> None:
        _ok(client.post(f"/v1/cases/{cases[case]}/claim", headers=bearer(token)), 200)
        _ok(
            client.post(
                f"/v1/cases/{cases[case]}/decision",
                json=decision_body(outcome),
                headers=bearer(token),
            )
        )

    for case in ("R1", "R2", "N1", "N3", "A1", "N8"):
        decide(case)
    decide("N2", "no_violation")
    decide("N7", "ban_channel")
    _ok(
        client.post(
            f"/v1/cases/{cases['N7']}/approval",
            json={"approve": True},
            headers=bearer(tokens.reviewer2),
        ),
        200,
    )
    _ok(client.post(f"/v1/cases/{cases['N4']}/claim", headers=bearer(tokens.reviewer)), 200)
    _ok(
        client.post(
            f"/v1/cases/{cases['N4']}/objection",
            json={"report_id": reports["N4"], "reason": "Liputan berita, bukan hoaks."},
            headers=bearer(tokens.reviewer),
        )
    )
    appeals = {}
    for name, message_id, outcome in (("AP1", 10, "reverse"), ("AP2", 1, "uphold")):
        filed = _ok(
            client.post(
                "/v1/appeals",
                json={"channel": "beritakita", "message_id": message_id, "reason": "Keliru."},
                headers=bearer(tokens.platform),
            )
        )
        appeals[name] = filed["appeal_id"]
        _ok(
            client.post(f"/v1/cases/{filed['case_id']}/claim", headers=bearer(tokens.reviewer2)),
            200,
        )
        _ok(
            client.post(
                f"/v1/cases/{filed['case_id']}/decision",
                json={"outcome": outcome, "explanation": "Ditinjau ulang oleh peninjau lain."},
                headers=bearer(tokens.reviewer2),
            )
        )
    _pin(runtime, reports, cases, appeals)
    return World(reports=reports, cases=cases)


def _pin(
    runtime: Runtime, reports: dict[str, str], cases: dict[str, str], appeals: dict[str, str]
) -> None:
    # (received, deadline, settled) per report; (opened, deadline, first decided) per case.
    report_times = {
        "R1": (T0, T0 + HOUR, T0 + 30 * MINUTE),
        "R2": (T0, T0 + HOUR, T0 + 2 * HOUR),
        "R3": (SINCE, SINCE + HOUR, None),
        "N1": (T0, T0 + 24 * HOUR, T0 + 3 * HOUR),
        "N2": (T0, T0 + 24 * HOUR, T0 + 30 * HOUR),
        "N3": (T0, T0 + 72 * HOUR, T0 + 10 * HOUR),
        "N4": (T0, T0 + 24 * HOUR, None),
        "N5": (T0, T0 + 72 * HOUR, None),
        "N6": (T0 + 5 * HOUR, T0 + 29 * HOUR, T0 + 5 * HOUR),
        "N7": (T0 + HOUR, T0 + 25 * HOUR, T0 + 2 * HOUR),
        "N8": (SINCE - 4 * HOUR, SINCE + 20 * HOUR, SINCE - 2 * HOUR),
        "N9": (UNTIL, UNTIL + 72 * HOUR, None),
    }
    case_times = {
        name: (received, deadline, settled)
        for name, (received, deadline, settled) in report_times.items()
    }
    case_times["A1"] = (T0 + HOUR, T0 + 25 * HOUR, T0 + 20 * HOUR)
    case_times["A2"] = (T0 + 4 * HOUR, T0 + 28 * HOUR, T0 + 4 * HOUR)
    del case_times["N6"]  # the user's report joined the case detection opened (A2)
    appeal_times = {"AP1": (T0 + 6 * HOUR, T0 + 8 * HOUR), "AP2": (T0 + 2 * HOUR, T0 + 5 * HOUR)}
    with runtime.factory() as session, session.begin():
        for name, (received, deadline, settled) in report_times.items():
            session.execute(
                update(Report)
                .where(Report.id == uuid.UUID(reports[name]))
                .values(received_at=received, deadline=deadline, decided_at=settled)
            )
        for name, (opened, deadline, decided) in case_times.items():
            case_id = uuid.UUID(cases[name])
            session.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(opened_at=opened, deadline=deadline, decided_at=decided)
            )
            session.execute(
                update(Decision)
                .where(Decision.case_id == case_id, Decision.appeal_id.is_(None))
                .values(decided_at=decided)
            )
        for name, (filed, decided) in appeal_times.items():
            session.execute(
                update(Appeal)
                .where(Appeal.id == uuid.UUID(appeals[name]))
                .values(filed_at=filed, decided_at=decided)
            )
            session.execute(
                update(Decision)
                .where(Decision.appeal_id == uuid.UUID(appeals[name]))
                .values(decided_at=decided)
            )
        session.execute(update(Signal).values(created_at=T0 + HOUR))
