"""After the README's tour and the Telegram flows beside it, no raw platform user id, user name,
phone number or IP address is anywhere in the database, nor in what the server wrote."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tanggap.auth import service as auth
from tanggap.config import Settings
from tanggap.platforms.botapi import BotApi
from tanggap.pseudonyms import user_ref
from tanggap.runtime import Runtime
from tanggap.telegram.conversation import FlaggerBot
from tanggap.telegram.intake import TelegramIntake
from tests.bot_helpers import linked_member
from tests.conftest import TEST_SECRET
from tests.factories import Tokens
from tests.legal_helpers import FINDING, PDF
from tests.portal_helpers import log_in
from tests.privacy_dump import dump, found
from tests.serving import cli, serving
from tests.telegram_standin import BotApiStandin, group_message, private_message
from tests.telegram_support import telegram_settings

AUTHOR = "7770019931"  # the platform's id of the tour post's author
REPORTER = "8880029942"  # a platform user who reports a post in the app
MEMBER = 5_550_019_937  # a group member whose messages the connector reads
MEMBER_NAME = "budi_k"  # ...and their Telegram user name
FLAGGER_TG = 6_660_029_943  # a flagger's own Telegram account, linked to the bot
PHONE = "+6281299887766"  # a phone number shared as a contact, in a group and to the bot
CLIENT_IP = "127.0.0.3"  # every request of the tour comes from this address
NEEDLES = {
    "the author's platform id": AUTHOR,
    "the reporter's platform id": REPORTER,
    "the group member's Telegram id": str(MEMBER),
    "the group member's user name": MEMBER_NAME,
    "the flagger's Telegram id": str(FLAGGER_TG),
    "a phone number": PHONE.lstrip("+"),
    "the client's IP address": CLIENT_IP,
}


@pytest.fixture
def environment(database_url: str) -> dict[str, str]:
    """The serving process's settings: the demo loads in development only; the checkpoint key
    is the test's own."""
    return {
        **os.environ,
        "TANGGAP_DATABASE_URL": database_url,
        "TANGGAP_SECRET_KEY": TEST_SECRET,
        "TANGGAP_ENV": "development",
        "TANGGAP_AUDIT_KEY": base64.b64encode(os.urandom(32)).decode(),
    }


@pytest.fixture
def settings(settings: Settings, telegram_standin: BotApiStandin) -> Settings:
    """The in-process settings, with Telegram's Bot API the stand-in."""
    return telegram_settings(settings, telegram_standin)


def demo_tokens(environment: dict[str, str]) -> tuple[dict[str, str], str]:
    """Load the demo as the README does; return its tokens and the portal password."""
    loaded = cli(environment, "demo", "load")
    assert loaded.returncode == 0, loaded.stderr
    tokens = dict(re.findall(r"^TANGGAP_DEMO_(\w+)_TOKEN=(\S+)$", loaded.stdout, re.M))
    password = re.search(r"demo-flagger@tanggap.invalid / (\S+)", loaded.stderr)
    assert tokens and password, loaded
    return {name.lower(): token for name, token in tokens.items()}, password.group(1)


def the_tour(http: httpx.Client, tokens: dict[str, str], password: str) -> None:
    """The README's tour, step by step, and a user's in-app report beside it."""

    def auth_(name: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[name]}", **extra}

    post = {
        "channel": "jakartainfo",
        "message_id": 9001,
        "author_id": int(AUTHOR),
        "posted_at": "2026-11-23T08:00:00+07:00",
        "views": 40,
        "text": "Hadiah undian! Transfer biaya admin Rp500 ribu ke rekening kami.",
    }
    assert http.post("/v1/posts", json=post, headers=auth_("platform")).status_code == 201
    other = {**post, "message_id": 9002, "text": "Undian lagi, hubungi admin kami."}
    assert http.post("/v1/posts", json=other, headers=auth_("platform")).status_code == 201
    report = {"target": "https://t.me/jakartainfo/9001", "category": "fraud", "note": "Penipuan"}
    receipt = http.post(
        "/v1/reports", json=report, headers=auth_("flagger", **{"Idempotency-Key": "t-1"})
    )
    assert receipt.status_code == 202, receipt.text
    in_app = {"target": "t.me/jakartainfo/9002", "category": "fraud", "reporter_id": REPORTER}
    assert http.post("/v1/reports", json=in_app, headers=auth_("platform")).status_code == 202
    case = receipt.json()["case_id"]
    assert http.post(f"/v1/cases/{case}/claim", headers=auth_("reviewer")).status_code == 200
    decision = {
        "outcome": "remove",
        "ground": "terms",
        "policy_ref": "terms/fraud",
        "explanation": "Penipuan: meminta biaya untuk hadiah palsu.",
    }
    decided = http.post(f"/v1/cases/{case}/decision", json=decision, headers=auth_("reviewer"))
    assert decided.status_code == 201, decided.text
    appeal = {"channel": "jakartainfo", "message_id": 9001, "reason": "Ini undian resmi."}
    assert http.post("/v1/appeals", json=appeal, headers=auth_("platform")).status_code == 201
    the_accountability_flows(http, auth_)
    for email, area in (
        ("demo-flagger@tanggap.invalid", "/portal"),
        ("demo-reviewer@tanggap.invalid", "/console"),
    ):
        status, _ = log_in(http, email, password, area=area)  # type: ignore[arg-type]
        assert status == 303


def the_accountability_flows(http: httpx.Client, auth_: Callable[..., dict[str, str]]) -> None:
    """A police request for the author's data, refused with its letters; the platform asking
    that the author's data be erased; the public transparency report."""
    author_ref = user_ref(secret_key=TEST_SECRET, platform_user_id=AUTHOR)
    request = {
        "kind": "user_data",
        "authority": "Direktorat Tindak Pidana Siber",
        "country": "ID",
        "legal_basis": "UU ITE Pasal 43",
        "reference": "B/1/XII/2026",
        "received_at": "2026-12-01T09:00:00+07:00",
        "pseudonyms": [author_ref],
    }
    files = [("documents", ("order.pdf", PDF, "application/pdf"))]
    made = http.post("/v1/legal/requests", data=request, files=files, headers=auth_("legal"))
    assert made.status_code == 201, made.text
    request_id = made.json()["request_id"]
    steps = (("assessment", FINDING), ("decision", {"outcome": "refuse"}))
    for name, body in steps:
        path = f"/v1/legal/requests/{request_id}/{name}"
        done = http.post(path, json=body, headers=auth_("legal"))
        assert done.status_code == 200, done.text
    letter = http.get(f"/v1/legal/requests/{request_id}/letters/id", headers=auth_("legal"))
    assert letter.status_code == 200 and AUTHOR not in letter.text
    erased = http.post(
        "/v1/erasures", json={"platform_user_id": int(AUTHOR)}, headers=auth_("platform")
    )
    assert erased.status_code == 200, erased.text
    assert http.get("/v1/transparency").status_code == 200
    assert http.get("/transparency").status_code == 200


def telegram_flows(runtime: Runtime, client: TestClient, standin: BotApiStandin) -> None:
    """A group member's messages (one sharing a contact), a flagger linking their account and
    sharing a contact with the bot, through the connector's intake."""
    with runtime.factory() as session:
        (platform,) = auth.find_callers(session=session, name_or_id="test platform")
    api = BotApi(token=standin.token, api_url=standin.url, timeout=5)
    bot = FlaggerBot.for_runtime(runtime)
    intake = TelegramIntake(runtime, api, bot, owner_id=platform.id)
    try:
        said = group_message(user_id=MEMBER, text="Jual akun, hubungi saya di sini")
        assert intake.handle({"update_id": 1, **said}) == "stored"
        contact: dict[str, Any] = group_message(user_id=MEMBER, message_id=4, text="x")
        del contact["message"]["text"]
        contact["message"]["contact"] = {
            "phone_number": PHONE,
            "first_name": "Budi",
            "user_id": MEMBER,
        }
        assert intake.handle({"update_id": 2, **contact}) == "skipped"
        linked_member(bot, client, runtime, "Cyber Desk A", "siti@desk.example", FLAGGER_TG)
        shared = private_message(user_id=FLAGGER_TG, message_id=50)
        del shared["message"]["text"]
        shared["message"]["contact"] = {"phone_number": PHONE, "first_name": "Siti"}
        intake.handle({"update_id": 3, **shared})
    finally:
        api.close()


def test_no_personal_data_is_kept_anywhere(
    environment: dict[str, str],
    runtime: Runtime,
    client: TestClient,
    tokens: Tokens,
    telegram_standin: BotApiStandin,
) -> None:
    demo, password = demo_tokens(environment)
    transport = httpx.HTTPTransport(local_address=CLIENT_IP)
    with (
        serving(environment) as served,
        httpx.Client(base_url=served.url, transport=transport, timeout=30) as http,
    ):
        the_tour(http, demo, password)
    telegram_flows(runtime, client, telegram_standin)
    assert cli(environment, "audit", "seal").returncode == 0

    tables = dump(runtime.engine)
    assert sum(len(text) for text in tables.values()) > 10_000  # the dump holds the flows
    assert "jakartainfo" in tables["channels"] and "ObrolanKota".lower() in tables["channels"]
    assert found(tables, NEEDLES) == []
    written = served.output()
    assert "POST /v1/posts" in written  # the access log is there, without who sent it
    assert [what for what, needle in NEEDLES.items() if needle in written] == []
