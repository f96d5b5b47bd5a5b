"""Run Alembic migrations from code: the CLI, ``make run`` and the tests all come here."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from tanggap.db.session import normalise_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """Return an Alembic config that points at the packaged migrations and ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", *, secret_key: str | None = None) -> None:
    """Migrate the database at ``url`` up to ``revision``.

    A migration that converts keyed values (the flaggers' links) uses ``secret_key``, or reads
    ``TANGGAP_SECRET_KEY`` as the application does when it is not given."""
    config = alembic_config(url)
    if secret_key is not None:
        config.attributes["secret_key"] = secret_key
    command.upgrade(config, revision)


def pending(engine: Engine, url: str) -> bool:
    """Tell whether the database behind ``engine`` lags behind the newest migration."""
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current != head
