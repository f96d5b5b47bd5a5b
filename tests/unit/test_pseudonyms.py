"""Authors and reporters are kept only as keyed pseudonyms."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pydantic import ValidationError

from tanggap.config import DEFAULT_SECRET_KEY, Settings
from tanggap.pseudonyms import user_ref

KEY = "k" * 40


def test_the_same_user_gets_the_same_pseudonym_under_one_key() -> None:
    assert user_ref(secret_key=KEY, platform_user_id="12345") == user_ref(
        secret_key=KEY, platform_user_id="12345"
    )


def test_pseudonyms_differ_between_users_and_between_keys() -> None:
    a = user_ref(secret_key=KEY, platform_user_id="12345")
    assert a != user_ref(secret_key=KEY, platform_user_id="12346")
    assert a != user_ref(secret_key="j" * 40, platform_user_id="12345")


def test_a_pseudonym_is_an_hmac_not_a_plain_hash_of_the_id() -> None:
    ref = user_ref(secret_key=KEY, platform_user_id="12345")
    assert len(ref) == 64 and "12345" not in ref
    assert ref != hashlib.sha256(b"12345").hexdigest()
    # Without the key, guessing ids cannot find the pseudonym.
    assert ref != hmac.new(b"", b"12345", hashlib.sha256).hexdigest()


def test_empty_ids_are_refused() -> None:
    with pytest.raises(ValueError):
        user_ref(secret_key=KEY, platform_user_id="")


def test_the_default_secret_key_is_refused_outside_development() -> None:
    assert Settings(env="development").secret_key == DEFAULT_SECRET_KEY
    for env in ("production", "test"):
        with pytest.raises(ValidationError, match="TANGGAP_SECRET_KEY"):
            Settings(env=env)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(env="production", secret_key="short")
    assert Settings(env="production", secret_key=KEY).secret_key == KEY


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANGGAP_ENV", "production")
    monkeypatch.setenv("TANGGAP_SECRET_KEY", KEY)
    monkeypatch.setenv("TANGGAP_DATABASE_URL", "postgresql://db/tanggap")
    settings = Settings()
    assert (settings.env, settings.database_url) == ("production", "postgresql://db/tanggap")
