"""Authors and reporters are kept only as keyed pseudonyms."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pydantic import ValidationError

from tanggap.config import DEFAULT_SECRET_KEY, Settings
from tanggap.pseudonyms import DEFAULT_KEY_ID, Keyring, KeyringError, user_ref

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


def test_the_default_ring_is_the_secret_key_as_before_rotation() -> None:
    ring = Keyring.parse(None, secret_key=KEY)
    assert [key.key_id for key in ring.keys] == [DEFAULT_KEY_ID]
    assert ring.ref("12345") == user_ref(secret_key=KEY, platform_user_id="12345")
    assert Settings(env="test", secret_key=KEY).keyring == ring


def test_the_first_key_of_the_ring_is_current_and_every_key_is_looked_up() -> None:
    ring = Keyring.parse(f"k2:{'n' * 20}, {DEFAULT_KEY_ID}:{KEY}", secret_key="unused" * 8)
    assert ring.current.key_id == "k2"
    refs = ring.refs("12345")
    assert refs == {
        "k2": user_ref(secret_key="n" * 20, platform_user_id="12345"),
        DEFAULT_KEY_ID: user_ref(secret_key=KEY, platform_user_id="12345"),
    }
    assert ring.ref("12345") == refs["k2"]
    assert "n" * 20 not in repr(ring)  # a secret never reaches a log line


@pytest.mark.parametrize(
    ("keys", "named"),
    [
        ("k2", "entry 1 must be id:secret"),
        (f"k2:{'n' * 20},:{'m' * 20}", "entry 2 must be id:secret"),
        ("k2:short", "entry 1 (k2): the secret must be at least 16"),
        (f"k2:{'n' * 20},k2:{'m' * 20}", "entry 2: key id 'k2' appears twice"),
        (f"k 2:{'n' * 20}", "entry 1 must be id:secret"),
    ],
)
def test_a_malformed_ring_stops_the_start_naming_the_setting_and_entry(
    keys: str, named: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(env="test", secret_key=KEY, pseudonym_keys=keys)  # type: ignore[arg-type]
    message = str(refused.value)
    assert "TANGGAP_PSEUDONYM_KEYS" in message and named in message
    assert "n" * 20 not in message and "m" * 20 not in message
    with pytest.raises(KeyringError, match=named.replace("(", r"\(").replace(")", r"\)")):
        Keyring.parse(keys, secret_key=KEY)
