"""The checkpoint key: made once for development, required elsewhere, refused when malformed."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from tanggap.audit.signing import (
    DEVELOPMENT_KEY_FILE,
    CheckpointKeyError,
    load_key,
    parse_public_key,
    public_hex,
)
from tanggap.config import Settings

SECRET = "a-production-secret-that-is-long-enough-0123"


def test_development_makes_a_private_key_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = load_key(Settings(env="development"))
    made = tmp_path / DEVELOPMENT_KEY_FILE
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert public_hex(load_key(Settings(env="development"))) == public_hex(first)


@pytest.mark.parametrize("env", ["production", "development"])
def test_a_key_is_read_from_its_seed_or_file(env: str, tmp_path: Path) -> None:
    seed = base64.b64encode(bytes(range(32))).decode()
    key = load_key(Settings(env=env, secret_key=SECRET, audit_key=SecretStr(seed)))  # type: ignore[arg-type]
    assert len(public_hex(key)) == 64


def test_production_without_a_key_is_refused_naming_the_settings() -> None:
    with pytest.raises(CheckpointKeyError, match="TANGGAP_AUDIT_KEY_FILE"):
        load_key(Settings(env="production", secret_key=SECRET))


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "cannot read"), (b"not a key", "not a PEM private key")],
)
def test_a_bad_key_file_is_refused(content: bytes | None, reason: str, tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CheckpointKeyError, match=reason):
        load_key(Settings(env="production", secret_key=SECRET, audit_key_file=path))


def test_a_short_seed_is_refused() -> None:
    short = SecretStr(base64.b64encode(b"short").decode())
    with pytest.raises(CheckpointKeyError, match="TANGGAP_AUDIT_KEY must be"):
        load_key(Settings(env="production", secret_key=SECRET, audit_key=short))


@pytest.mark.parametrize("text", ["", "zz" * 32, "ab" * 31, "bm90IGEga2V5"])
def test_a_public_key_must_be_32_bytes(text: str) -> None:
    with pytest.raises(CheckpointKeyError):
        parse_public_key(text)
