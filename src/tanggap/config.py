"""Settings read from the environment (prefix ``TANGGAP_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tanggap.pseudonyms import Keyring, KeyringError

# How many rows a worker claims from an outbox at once (they are sent one after the other).
ACTIONS_CLAIMED_AT_ONCE = 10
DEFAULT_SECRET_KEY = "development-only-secret-key-change-me"
DEFAULT_POLICY_FILE = Path(__file__).parent / "policy" / "default_policy.yaml"
DEFAULT_RULES_DIR = Path(__file__).parent / "detection" / "rules"
_STREAM_NAME = r"^[A-Za-z0-9_-]+$"
_SUBJECT = r"^[^\s.*>]+(\.[^\s.*>]+)*$"
_SUBJECTS = r"^\s*[^\s,.]+(\.[^\s,.]+)*\s*(,\s*[^\s,.]+(\.[^\s,.]+)*\s*)*$"


class Settings(BaseSettings):
    """Every knob of a Tanggap process; nothing is built at import time."""

    # Errors never echo what was given: a refused setting may be a secret.
    model_config = SettingsConfigDict(
        env_prefix="TANGGAP_", extra="ignore", hide_input_in_errors=True
    )

    env: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite:///./var/tanggap.db"
    secret_key: str = DEFAULT_SECRET_KEY
    # The pseudonym keys, "id:secret,id:secret", current first (docs/retention.md); none: the
    # one key is the secret key (id "default"), as every pseudonym was made before rotation.
    pseudonym_keys: SecretStr | None = None
    policy_file: Path = DEFAULT_POLICY_FILE
    rules_dir: Path = DEFAULT_RULES_DIR
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_bulk_body_bytes: int = Field(default=8_388_608, ge=1024)
    # From the end of a request's headers to the end of its body; past it the answer is 408.
    body_timeout_seconds: float = Field(default=15.0, gt=0, le=3600)
    claim_lease_seconds: int = Field(default=600, ge=30)
    action_retry_seconds: float = Field(default=5.0, gt=0)
    action_max_attempts: int = Field(default=20, ge=1)
    # How long a claimed action is a worker's: one that dies mid-batch delays its actions this
    # long. It must outlast sending a claimed batch (the platform's time to answer × the batch).
    action_lease_seconds: float = Field(default=120.0, ge=1, le=86_400)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_retry_seconds: float = Field(default=10.0, gt=0)
    webhook_give_up_hours: float = Field(default=72.0, gt=0)
    # Where leads hear of cases near their deadline or escalated to them (chat bridge, pager…);
    # signed like the flagger webhooks with lead_webhook_secret. Unset: the console banner only.
    lead_webhook_url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2048)
    lead_webhook_secret: str | None = Field(default=None, min_length=16)
    # The flaggers' bot's username (without @), shown in the portal next to a member's link code.
    telegram_bot_username: str | None = Field(
        default=None, pattern=r"^@?[A-Za-z][A-Za-z0-9_]{3,31}$"
    )
    log_level: str = "INFO"
    # The checkpoint key (Ed25519) that signs the audit chain's head: a PEM private key file, or
    # its 32-byte seed in base64. Development generates var/audit-checkpoint-key.pem.
    audit_key_file: Path | None = None
    audit_key: SecretStr | None = None
    # A signed checkpoint after this many sealed events, or this long after the last one.
    audit_checkpoint_every: int = Field(default=1000, ge=1, le=1_000_000)
    audit_checkpoint_seconds: float = Field(default=60.0, gt=0, le=86_400)
    # inline: every serving process runs the background jobs too (the embedded one-process mode);
    # worker: serving processes answer HTTP only, the jobs run in `tanggap worker` processes.
    jobs: Literal["inline", "worker"] = "inline"
    # How often each job looks for work when nothing wakes it (on PostgreSQL a commit that creates
    # work wakes the job at once; polling is the fallback, and the only way on SQLite).
    triage_interval_seconds: float = Field(default=1.0, gt=0)
    deadline_watch_interval_seconds: float = Field(default=15.0, gt=0)
    scan_interval_seconds: float = Field(default=2.0, gt=0)
    # Posts a retroactive scan matches per transaction: a smaller batch holds its locks shorter.
    scan_batch_size: int = Field(default=200, ge=1, le=10_000)
    media_interval_seconds: float = Field(default=0.5, gt=0)
    action_interval_seconds: float = Field(default=5.0, gt=0)
    webhook_interval_seconds: float = Field(default=5.0, gt=0)
    # The audit sealer chains new events within about a second of their commit.
    seal_interval_seconds: float = Field(default=0.5, gt=0)
    # Retention (docs/retention.md): how often the worker purges what is past its age.
    retention_interval_seconds: float = Field(default=3600.0, gt=0)
    # FULL: a report answered 202 survives an OS crash or power loss (WAL synced at every commit).
    # NORMAL trades that for speed (bench/intake.py measures the price); EXTRA syncs the folder too.
    sqlite_synchronous: Literal["FULL", "EXTRA", "NORMAL"] = "FULL"
    # Posts from a NATS JetStream stream (`tanggap ingest`); unset, there is no stream.
    nats_url: str | None = Field(default=None, pattern=r"^(nats|tls|wss?)://\S+$", max_length=2048)
    stream_name: str = Field(default="TANGGAP_POSTS", pattern=_STREAM_NAME, max_length=64)
    # The subjects the stream takes posts on, separated by commas (wildcards allowed).
    stream_subjects: str = Field(default="tanggap.posts", pattern=_SUBJECTS, max_length=1024)
    stream_consumer: str = Field(default="tanggap-ingest", pattern=_STREAM_NAME, max_length=64)
    # Where refused messages go, kept in a stream of their own (`<stream name>_DEAD`).
    stream_dead_letter_subject: str = Field(
        default="tanggap.dead.posts", pattern=_SUBJECT, max_length=256
    )
    stream_batch_size: int = Field(default=100, ge=1, le=500)
    # How long one fetch waits for a batch to fill before it takes what came.
    stream_fetch_wait_seconds: float = Field(default=1.0, gt=0, le=60)
    # An unacknowledged message is delivered again this long after it went out.
    stream_ack_wait_seconds: float = Field(default=60.0, ge=1, le=86_400)
    # Deliveries of one message before the stream gives up on it (a message that crashes the
    # consumer every time stops there).
    stream_max_deliveries: int = Field(default=10, ge=1, le=1000)
    # A larger message goes to the dead-letter subject (images travel base64 inside a post).
    stream_max_message_bytes: int = Field(default=1_048_576, ge=1024)
    # A larger file named in a JetStream object store goes to the dead-letter subject (at most
    # the 50 MiB a file may have to be hashed at all).
    stream_max_object_bytes: int = Field(default=16_777_216, ge=1024, le=52_428_800)
    # The platform principal (id or name) the stream speaks for: posts are recorded as sent by it.
    stream_principal: str | None = Field(default=None, min_length=1, max_length=200)
    # Where actions go: the built-in demo pages, a platform's signed HTTP endpoint
    # (docs/platform-http.md) or Telegram; a channel that names its platform goes to that one.
    platform: Literal["builtin", "http", "telegram"] = "builtin"
    platform_url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2048)
    platform_secret: SecretStr | None = None
    platform_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # The base of the links Tanggap hands out (a platform gets its statements of reasons there).
    public_url: str = Field(
        default="http://127.0.0.1:8000", pattern=r"^https?://\S+$", max_length=2048
    )

    @model_validator(mode="after")
    def _platform_needs_its_settings(self) -> Settings:
        secret = self.platform_secret.get_secret_value() if self.platform_secret else None
        if self.platform == "http" and not self.platform_url:
            raise ValueError("TANGGAP_PLATFORM_URL is required when TANGGAP_PLATFORM=http")
        if self.platform_url and not secret:
            raise ValueError("TANGGAP_PLATFORM_URL needs TANGGAP_PLATFORM_SECRET to sign with")
        if secret is not None and len(secret) < 16:
            # Said without the value: the error is printed at startup.
            raise ValueError("TANGGAP_PLATFORM_SECRET must be at least 16 characters")
        if (
            self.env == "production"
            and self.platform_url
            and "public_url" not in self.model_fields_set
        ):
            raise ValueError(
                "TANGGAP_PUBLIC_URL must be set in production when actions go over HTTP: the "
                "platform gets its statements of reasons there"
            )
        for name, timeout, in_use in (
            ("TANGGAP_PLATFORM_TIMEOUT_SECONDS", self.platform_timeout_seconds, self.platform_url),
            (
                "TANGGAP_TELEGRAM_TIMEOUT_SECONDS",
                self.telegram_timeout_seconds,
                self.telegram_token,
            ),
        ):
            if in_use and timeout * ACTIONS_CLAIMED_AT_ONCE >= self.action_lease_seconds:
                raise ValueError(
                    f"TANGGAP_ACTION_LEASE_SECONDS ({self.action_lease_seconds:g}) must outlast "
                    f"sending the {ACTIONS_CLAIMED_AT_ONCE} actions a worker claims at once, each "
                    f"given up to {name} ({timeout:g}): raise the lease or lower the timeout"
                )
        return self

    # The Telegram connector (docs/telegram.md): the bot's token from @BotFather, read from the
    # environment only, and the Bot API server it speaks to (a local one, say).
    telegram_token: SecretStr | None = None
    telegram_api_url: str = Field(
        default="https://api.telegram.org", pattern=r"^https?://[^\s/]+(/[^\s]*)?$", max_length=2048
    )
    telegram_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # A larger photo is skipped (its post is stored without it); the Bot API serves 20 MB at most.
    telegram_max_photo_bytes: int = Field(default=5_242_880, ge=1024, le=20_971_520)
    # How long a chat's member count is reused before getChatMemberCount is asked again.
    telegram_chat_cache_seconds: float = Field(default=300.0, ge=0, le=86_400)
    # The platform principal (id or name) the connector's posts are recorded as sent by: its
    # token files appeals and reads statements for them. Unset: staff only.
    telegram_principal: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _telegram_needs_its_token(self) -> Settings:
        token = self.telegram_token.get_secret_value() if self.telegram_token else ""
        if self.platform == "telegram" and not token:
            raise ValueError(
                "TANGGAP_TELEGRAM_TOKEN is required when TANGGAP_PLATFORM=telegram "
                "(the bot's token from @BotFather)"
            )
        return self

    # The EU Transparency Database (DSA Art. 24(5), docs/eu-database.md): its base URL and the
    # platform's API token; unset, no statement is queued. Statements go in calls of at most
    # eu_database_batch_size (the database takes 100 at most).
    eu_database_url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2048)
    eu_database_token: SecretStr | None = None
    eu_database_batch_size: int = Field(default=100, ge=1, le=100)
    eu_database_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    eu_database_retry_seconds: float = Field(default=60.0, gt=0, le=86_400)
    eu_database_interval_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _eu_database_needs_its_token(self) -> Settings:
        token = self.eu_database_token.get_secret_value() if self.eu_database_token else ""
        if self.eu_database_url and not token.strip():
            # Said without the value: the error is printed at startup.
            raise ValueError(
                "TANGGAP_EU_DATABASE_TOKEN is required when TANGGAP_EU_DATABASE_URL is set "
                "(the platform's API token of the EU Transparency Database)"
            )
        if token and not self.eu_database_url:
            raise ValueError(
                "TANGGAP_EU_DATABASE_TOKEN is set but TANGGAP_EU_DATABASE_URL is not: name the "
                "database the statements go to (https://transparency.dsa.ec.europa.eu)"
            )
        return self

    @property
    def stream_subject_list(self) -> list[str]:
        """Return the stream's subjects, in the order given."""
        return [subject.strip() for subject in self.stream_subjects.split(",")]

    @property
    def keyring(self) -> Keyring:
        """Return the pseudonym keyring (checked at startup)."""
        keys = self.pseudonym_keys.get_secret_value() if self.pseudonym_keys else None
        return Keyring.parse(keys, secret_key=self.secret_key)

    @model_validator(mode="after")
    def _check_keyring(self) -> Settings:
        try:
            self.keyring  # noqa: B018 - parsed for its errors
        except KeyringError as exc:
            raise ValueError(f"TANGGAP_PSEUDONYM_KEYS: {exc}") from None
        return self

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.env != "development":
            if self.secret_key == DEFAULT_SECRET_KEY:
                raise ValueError(
                    "TANGGAP_SECRET_KEY still has its development default; set a random value "
                    f"of at least 32 characters when TANGGAP_ENV={self.env}"
                )
            if len(self.secret_key) < 32:
                raise ValueError(
                    f"TANGGAP_SECRET_KEY must be at least 32 characters when TANGGAP_ENV={self.env}"
                )
        if any(
            covers_subject(s, self.stream_dead_letter_subject) for s in self.stream_subject_list
        ):
            raise ValueError(
                "TANGGAP_STREAM_DEAD_LETTER_SUBJECT must lie outside TANGGAP_STREAM_SUBJECTS "
                "(refused messages would come back to the stream)"
            )
        if self.lead_webhook_url and not self.lead_webhook_secret:
            raise ValueError(
                "TANGGAP_LEAD_WEBHOOK_URL needs TANGGAP_LEAD_WEBHOOK_SECRET to sign with"
            )
        return self


def covers_subject(pattern: str, subject: str) -> bool:
    """Tell whether the subject ``pattern`` (``*`` one token, ``>`` the rest) takes ``subject``."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or token not in ("*", tokens[index]):
            return False
    return len(tokens) == len(wanted)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once from the environment."""
    return Settings()
