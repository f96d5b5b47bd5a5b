"""Legal officers from the command line: their console account, then a token of it."""

from __future__ import annotations

from sqlalchemy import func, select

from tanggap.auth import service as auth
from tanggap.auth.models import Principal
from tanggap.runtime import Runtime
from tests.commands import tanggap


def test_a_legal_officer_gets_an_account_then_a_token_of_it(
    database_url: str, runtime: Runtime
) -> None:
    made = tanggap("legal", "create", "hukum@example.org", database_url=database_url)
    assert made.returncode == 0, made.stderr
    assert len(made.stdout.strip()) >= 12 and made.stdout.count("\n") == 1
    bare = tanggap("token", "create", "--role", "legal", database_url=database_url)
    assert bare.returncode != 0 and "--user" in bare.stderr and bare.stdout == ""
    wrong = tanggap(
        "token",
        "create",
        "--role",
        "reviewer",
        "--user",
        "hukum@example.org",
        database_url=database_url,
    )
    assert wrong.returncode != 0 and "no reviewer account" in wrong.stderr
    done = tanggap(
        "token",
        "create",
        "--role",
        "legal",
        "--user",
        "hukum@example.org",
        database_url=database_url,
    )
    assert done.returncode == 0, done.stderr
    with runtime.factory() as session:
        caller = auth.authenticate(session=session, token=done.stdout.strip())
        assert caller is not None and caller.role == "legal" and caller.org_id is None
    again = tanggap("legal", "create", "HUKUM@example.org", database_url=database_url)
    bad = tanggap("legal", "create", "not-an-address", database_url=database_url)
    for refused in (again, bad):
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
    with runtime.factory() as session:
        count = select(func.count()).select_from(Principal).where(Principal.role == "legal")
        assert session.execute(count).scalar_one() == 1
