"""no raw Telegram id in a flagger's link: the user id becomes a keyed lookup digest and the
private chat's id is sealed (AES-GCM) for its row; existing links are converted in place

Converting needs the secret key the application runs with: the caller of the migration hands
it over (``tanggap db upgrade`` does), or it is read from the environment as the application
reads it (``TANGGAP_SECRET_KEY``). A database without links needs no key. Downgrading cannot
give back the raw ids: it deletes the links, and members link again from the portal.

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid

import sqlalchemy as sa
from alembic import context, op
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None

links = sa.table(
    "telegram_links",
    sa.column("id", sa.Uuid()),
    sa.column("telegram_user_id", sa.BigInteger()),
    sa.column("chat_id", sa.BigInteger()),
    sa.column("user_digest", sa.String(64)),
    sa.column("sealed_chat_id", sa.String(128)),
)


def _derive(secret_key: str, info: bytes) -> bytes:
    # Frozen copy of tanggap.flaggers.telegram_ids.LinkKeys: a migration must not change with
    # the code (tests/integration/test_migrations_flagger_links.py checks the two agree).
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret_key.encode()
    )


def _secret_key() -> str:
    given = context.config.attributes.get("secret_key")
    if given:
        return str(given)
    from tanggap.config import Settings

    return Settings().secret_key


def upgrade() -> None:
    with op.batch_alter_table("telegram_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sealed_chat_id", sa.String(length=128), nullable=True))

    bind = op.get_bind()
    rows = bind.execute(sa.select(links.c.id, links.c.telegram_user_id, links.c.chat_id)).all()
    if rows:
        secret_key = _secret_key()
        lookup = _derive(secret_key, b"tanggap.flagger-telegram-user-lookup.v1")
        chat = AESGCM(_derive(secret_key, b"tanggap.flagger-telegram-chat.v1"))
        for link_id, user_id, chat_id in rows:
            digest = hmac.new(lookup, str(user_id).encode(), hashlib.sha256).hexdigest()
            nonce = os.urandom(12)
            sealed = chat.encrypt(nonce, str(chat_id).encode(), uuid.UUID(str(link_id)).bytes)
            bind.execute(
                links.update()
                .where(links.c.id == link_id)
                .values(
                    user_digest=digest,
                    sealed_chat_id=base64.urlsafe_b64encode(nonce + sealed).decode(),
                )
            )

    with op.batch_alter_table("telegram_links", schema=None) as batch_op:
        batch_op.alter_column("user_digest", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("sealed_chat_id", existing_type=sa.String(length=128), nullable=False)
        batch_op.drop_constraint("uq_telegram_links_telegram_user_id", type_="unique")
        batch_op.drop_column("telegram_user_id")
        batch_op.drop_column("chat_id")
        batch_op.create_index(
            batch_op.f("ix_telegram_links_user_digest"), ["user_digest"], unique=True
        )


def downgrade() -> None:
    # The digest cannot be turned back into an id: the links go, members link again.
    op.execute(links.delete())
    with op.batch_alter_table("telegram_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telegram_links_user_digest"))
        batch_op.drop_column("sealed_chat_id")
        batch_op.drop_column("user_digest")
        batch_op.add_column(sa.Column("telegram_user_id", sa.BigInteger(), nullable=False))
        batch_op.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=False))
        batch_op.create_unique_constraint(
            batch_op.f("uq_telegram_links_telegram_user_id"), ["telegram_user_id"]
        )
