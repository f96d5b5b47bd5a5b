"""What the connector does with one update, in the database thread: a public chat's post is
stored with its channel's metadata (photos fetched, hashed and dropped), a private message or a
pressed button goes to ``PrivateChats`` and its replies to the chat; anything else is skipped
and logged without personal data (no sender, no text, no private chat's id)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tanggap.channels import members
from tanggap.channels import service as channels
from tanggap.channels.models import Channel
from tanggap.channels.schemas import ChannelIn
from tanggap.detectors.hashing import QUALITY_FLOOR, HashError, hash_bytes
from tanggap.errors import Conflict, TanggapError
from tanggap.notify.chat import BotReply
from tanggap.outbox import DeliveryFailed, DeliveryRefused
from tanggap.platforms.botapi import BotApi, FileTooLarge
from tanggap.platforms.sealing import MemberSeal
from tanggap.platforms.telegram import TELEGRAM, member_seal, platform_of
from tanggap.posts import service as posts
from tanggap.posts.schemas import HashedMediaIn, MediaIn, PostIn
from tanggap.runtime import Runtime
from tanggap.telegram.port import PrivateChats, PrivateMessage
from tanggap.telegram.updates import ChatPost, Pressed, Skipped, read_update

log = structlog.get_logger(__name__)
ACTOR = "system:telegram"
INSTRUCTIONS = (
    "This bot moderates public Telegram channels for Tanggap; it keeps nothing you write here.\n"
    "Trusted flaggers: link your account from the flagger portal, then send links to posts.\n\n"
    "Bot ini memoderasi kanal Telegram publik untuk Tanggap; pesan Anda di sini tidak disimpan.\n"
    "Pelapor tepercaya: tautkan akun Anda dari portal pelapor, lalu kirim tautan unggahan."
)


class Instructions:
    """The private chat of a bot with no flaggers' conversation: instructions only, to anyone;
    nothing is read or written."""

    def handle(self, message: PrivateMessage) -> list[BotReply]:
        """Answer with the instructions."""
        return [BotReply(chat_id=message.chat_id, text=INSTRUCTIONS)]


@dataclass
class MemberCounts:
    """Each chat's member count, reused for ``ttl`` seconds before Telegram is asked again."""

    api: BotApi
    ttl: float
    _known: dict[int, tuple[int, float]] = field(default_factory=dict)

    def of(self, chat_id: int) -> int | None:
        """Return the chat's member count, or None when Telegram does not tell."""
        now = time.monotonic()
        known = self._known.get(chat_id)
        if known is not None and known[1] > now:
            return known[0]
        try:
            count = self.api.chat_member_count(chat_id)
        except DeliveryFailed as exc:
            log.warning("telegram.member_count_unavailable", error=str(exc))
            return known[0] if known else None
        self._known[chat_id] = (count, now + self.ttl)
        return count


@dataclass
class ModeratedChats:
    """Whether the bot is an admin of a chat (``getChatMember`` on itself), reused for ``ttl``
    seconds: only the chats it moderates are read. Anyone can add a bot to a group of their own;
    its posts are not Tanggap's to store."""

    api: BotApi
    ttl: float
    _known: dict[int, tuple[bool, float]] = field(default_factory=dict)

    def moderates(self, chat_id: int) -> bool:
        """Tell whether the bot is an admin of the chat; raise ``DeliveryFailed`` when Telegram
        cannot say and nothing is known yet (the update is taken again later)."""
        now = time.monotonic()
        known = self._known.get(chat_id)
        if known is not None and known[1] > now:
            return known[0]
        try:
            status = self.api.member_status(chat_id, self.api.bot_id)
        except DeliveryFailed as exc:
            if known is None or isinstance(exc, DeliveryRefused):
                if isinstance(exc, DeliveryRefused):  # not a member at all, say
                    self._known[chat_id] = (False, now + self.ttl)
                    return False
                raise
            log.warning("telegram.admin_check_unavailable", error=str(exc))
            return known[0]
        admin = status in ("administrator", "creator")
        self._known[chat_id] = (admin, now + self.ttl)
        return admin


@dataclass
class TelegramIntake:
    """Takes the updates of one bot, one at a time, in the order Telegram sent them."""

    runtime: Runtime
    api: BotApi
    chats: PrivateChats = field(default_factory=Instructions)
    # The platform principal the posts are recorded as sent by (TANGGAP_TELEGRAM_PRINCIPAL).
    owner_id: uuid.UUID | None = None
    counts: MemberCounts = field(init=False)
    moderated: ModeratedChats = field(init=False)
    # Seals a group member's id for a later ban; None without a token (no member id is kept).
    seal: MemberSeal | None = field(init=False)

    def __post_init__(self) -> None:
        ttl = self.runtime.settings.telegram_chat_cache_seconds
        self.counts = MemberCounts(self.api, ttl)
        self.moderated = ModeratedChats(self.api, ttl)
        self.seal = member_seal(self.runtime.settings)

    def handle(self, update: Any) -> str:
        """Take one update (the Bot API's JSON object); return what became of it: ``stored``,
        ``answered`` or ``skipped``."""
        found = read_update(update, max_photo_bytes=self.runtime.settings.telegram_max_photo_bytes)
        if isinstance(found, Skipped):
            return skip(found.update_id, found.kind, found.reason)
        if isinstance(found, Pressed):
            self._quietly(partial(self.api.answer_callback_query, found.callback_query_id))
            return self._answer(found.message)
        if isinstance(found, PrivateMessage):
            return self._answer(found)
        return self.store(found)

    def _answer(self, message: PrivateMessage) -> str:
        for reply in self.chats.handle(message):
            self._quietly(partial(self.api.send_message, reply))
        return "answered"

    def _quietly(self, call: Callable[[], object]) -> None:
        """Make a call to Telegram whose failure only costs a reply: logged, not raised."""
        try:
            call()
        except DeliveryFailed as exc:
            log.warning("telegram.reply_failed", error=str(exc))

    def store(self, post: ChatPost) -> str:
        """Store a public chat's post and its channel's metadata in one transaction, then deliver
        what an automatic decision queued."""
        if not self.moderated.moderates(post.chat_id):
            return skip(post.update_id, post.kind, "the bot is not an admin of this chat")
        media = self._media(post)
        if not post.text.strip() and not media:
            return skip(post.update_id, post.kind, "nothing left to store without its photo")
        try:
            data = PostIn(
                channel=post.handle,
                message_id=post.message_id,
                text=post.text,
                media=media,
                posted_at=post.posted_at,
                author_id=post.author_id,
            )
            known: dict[str, object] = {
                "handle": post.handle,
                "title": post.title,
                "subscribers": self.counts.of(post.chat_id),
            }
            # What Telegram did not tell is left as stored.
            channel_in = ChannelIn.model_validate(
                {name: value for name, value in known.items() if value is not None}
            )
        except ValidationError as exc:
            fields = ",".join(".".join(map(str, e["loc"])) for e in exc.errors())
            return skip(post.update_id, post.kind, f"refused: {fields}")
        runtime = self.runtime
        try:
            with runtime.factory() as session, session.begin():
                channel, created = channels.upsert(session=session, data=channel_in, actor=ACTOR)
                if not created:
                    _may_claim(channel, str(post.chat_id), runtime.settings.platform)
                channels.link_platform(
                    session=session,
                    channel=channel,
                    platform=TELEGRAM,
                    platform_ref=str(post.chat_id),
                    actor=ACTOR,
                )
                result = posts.ingest(
                    session=session,
                    data=data,
                    keyring=runtime.settings.keyring,
                    actor=ACTOR,
                    inspector=runtime.pipeline,
                    owner_id=self.owner_id,
                )
                self._keep_member(session, post)
        except TanggapError as exc:
            return skip(post.update_id, post.kind, f"refused: {exc.message}")
        runtime.after_ingest([result])
        log.info(
            "telegram.post_stored",
            update_id=post.update_id,
            channel=post.handle,
            message_id=post.message_id,
            created=result.created,
            changed=result.changed,
        )
        return "stored"

    def _keep_member(self, session: Session, post: ChatPost) -> None:
        """Keep a group member's id sealed, in the post's transaction, so a ban can reach them."""
        if post.member_id is None or self.seal is None:
            return
        chat_ref = str(post.chat_id)
        keyring = self.runtime.settings.keyring
        author_ref = keyring.ref(post.author_id)
        members.keep(
            session=session,
            chat_ref=chat_ref,
            author_ref=author_ref,
            key_id=keyring.current.key_id,
            sealed_id=self.seal.seal(
                chat_ref=chat_ref, author_ref=author_ref, user_id=post.member_id
            ),
            seen_at=post.posted_at,
        )

    def _media(self, post: ChatPost) -> list[MediaIn]:
        """The post's photo, fetched and hashed (its bytes dropped), or none with a log line."""
        if post.photo_skipped is not None:
            log.info("telegram.photo_skipped", update_id=post.update_id, reason=post.photo_skipped)
        if post.photo is None:
            return []
        limit = self.runtime.settings.telegram_max_photo_bytes
        try:
            raw = self.api.download_file(post.photo.file_id, max_bytes=limit)
            hashes = hash_bytes(raw)
        except (FileTooLarge, HashError, DeliveryFailed) as exc:
            log.info("telegram.photo_skipped", update_id=post.update_id, reason=str(exc))
            return []
        del raw  # the bytes go no further than the hash
        pdq = hashes.pdq if hashes.quality is not None and hashes.quality >= QUALITY_FLOOR else None
        return [
            HashedMediaIn(sha256=hashes.sha256, md5=hashes.md5, pdq=pdq, pdq_quality=hashes.quality)
        ]


def _may_claim(channel: Channel, chat_ref: str, default_platform: str) -> None:
    """Refuse a chat's post under the handle of a channel that is not that chat's: a channel of
    another platform, or a Telegram channel of another chat (a username taken over after a
    rename). A channel of the default platform with no chat id yet is Telegram's when Telegram
    is the default (it was known by its handle only)."""
    platform = platform_of(channel.platform, default_platform)
    if platform != TELEGRAM:
        raise Conflict(f"@{channel.handle} is a channel of {platform}, not of this Telegram chat")
    if channel.platform_ref not in (None, chat_ref):
        raise Conflict(f"@{channel.handle} belongs to another Telegram chat")


def skip(update_id: int | None, kind: str | None, reason: str) -> str:
    """Log a skipped update without personal data; return ``skipped``."""
    log.info("telegram.update_skipped", update_id=update_id, kind=kind, reason=reason)
    return "skipped"
