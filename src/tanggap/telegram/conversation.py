"""The flaggers' bot in a private chat: link an account with the portal's code, send links with a
category (a word, or a button), hear every line's fate, reply to a notice to write on the thread.

Every message is answered in one transaction: a refusal rolls it back, so bad input changes
nothing. Someone who is not a linked member gets instructions only, never data. The logs carry
no Telegram id, no name and no text of a message.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass

import structlog
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from tanggap.errors import Forbidden, NotFound, TanggapError
from tanggap.flaggers import telegram_links
from tanggap.flaggers.telegram_ids import LinkKeys
from tanggap.flaggers.telegram_links import CodeRefused, LinkedMember
from tanggap.notify import bot as notices
from tanggap.notify.chat import BotReply, Button
from tanggap.notify.port import Notifier
from tanggap.policy.schemas import Category, Policy
from tanggap.pseudonyms import Keyring
from tanggap.reports import bulk, threads
from tanggap.reports import service as reports
from tanggap.reports.present import present
from tanggap.reports.schemas import MAX_BULK, BulkLine, MessageIn
from tanggap.runtime import Runtime
from tanggap.telegram.port import PrivateMessage
from tanggap.telegram.texts import language_of, say

log = structlog.get_logger(__name__)
MAX_MESSAGE_CHARS = 4096  # Telegram's limit on one message's text
BUTTONS_PER_ROW = 2
LINK = re.compile(r"^(?:(?:https?|tg)://|(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)/)", re.I)
PRESSED = re.compile(r"^c:([A-Za-z0-9_-]{22}):(\d{1,3})$")


class _Refusal(Exception):
    """An answer to bad input: the transaction rolls back, the reply goes out."""

    def __init__(self, reason: str, reply: BotReply) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reply = reply


@dataclass(frozen=True)
class Parsed:
    """A message read as a submission: its links, and the rest (the category, if any)."""

    links: list[str]
    rest: str


def read_submission(text: str) -> Parsed:
    """Split a message into its links (one per line or several per line) and the other words."""
    links: list[str] = []
    words: list[str] = []
    for token in text.split():
        (links if LINK.match(token) else words).append(token)
    return Parsed(links=links, rest=" ".join(words))


def split_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Split a long text into messages of at most ``limit`` characters, between lines."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # one line longer than a message: cut it
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        if current and len(current) + 1 + len(line) > limit:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current or not parts:
        parts.append(current)
    return parts


class FlaggerBot:
    """Answers private messages to the bot (the ``PrivateChats`` port)."""

    def __init__(
        self,
        *,
        factory: sessionmaker[Session],
        policy: Policy,
        keyring: Keyring,
        link_keys: LinkKeys,
        notifier: Notifier,
    ) -> None:
        self.factory = factory
        self.policy = policy
        self.keyring = keyring
        self.link_keys = link_keys
        self.notifier = notifier

    @classmethod
    def for_runtime(cls, runtime: Runtime) -> FlaggerBot:
        """Return the bot over a process's runtime."""
        return cls(
            factory=runtime.factory,
            policy=runtime.policy,
            keyring=runtime.settings.keyring,
            link_keys=LinkKeys.of(runtime.settings.secret_key),
            notifier=runtime.notifier,
        )

    def handle(self, message: PrivateMessage) -> list[BotReply]:
        """Return the replies to ``message``, having written what it asked for (or nothing)."""
        try:
            with self.factory() as session, session.begin():
                return self._answer(session, message)
        except _Refusal as refusal:
            log.info("bot.refused", reason=refusal.reason)
            return [refusal.reply]

    def _answer(self, session: Session, message: PrivateMessage) -> list[BotReply]:
        command, argument = _command(message.text)
        if command in ("/start", "/link") and argument:
            return [self._link(session, message, argument)]
        member = telegram_links.member_of(
            session=session, keys=self.link_keys, telegram_user_id=message.user_id
        )
        if member is None:
            log.info("bot.stranger", command=command if command in _COMMANDS else None)
            return [_reply(message, say("stranger", language_of(message.language_code)))]
        if message.pressed is not None:
            return self._pressed(session, member, message)
        if command == "/status":
            return [self._status(session, member, message, argument)]
        if command is not None:  # /help, /start without a code, anything else
            return [self._help(member, message)]
        parsed = read_submission(message.text)
        if message.reply_to_message_id is not None:
            report_id = notices.report_of_reply(
                session=session,
                principal_id=member.principal_id,
                link_id=member.link_id,
                message_id=message.reply_to_message_id,
            )
            if report_id is not None:
                return [self._write_on_thread(session, member, message, report_id)]
            if not parsed.links:
                raise _Refusal(
                    "not_a_notice", _reply(message, say("not_a_notice", member.language))
                )
        if not parsed.links:
            return [self._help(member, message)]
        return self._submit_or_ask(session, member, message, parsed)

    def _link(self, session: Session, message: PrivateMessage, code: str) -> BotReply:
        member = telegram_links.member_of(
            session=session, keys=self.link_keys, telegram_user_id=message.user_id
        )
        language = member.language if member else language_of(message.language_code)
        try:
            linked = telegram_links.redeem(
                session=session,
                keys=self.link_keys,
                code=code,
                telegram_user_id=message.user_id,
                chat_id=message.chat_id,
            )
        except CodeRefused as exc:
            raise _Refusal(
                f"code_{exc.reason}", _reply(message, say(f"code_{exc.reason}", language))
            ) from None
        log.info("bot.linked")
        return _reply(
            message, say("linked", linked.language, org=linked.org_name, name=linked.name)
        )

    def _help(self, member: LinkedMember, message: PrivateMessage) -> BotReply:
        names = ", ".join(category.display_name(member.language) for category in self._offered())
        return _reply(message, say("help", member.language, categories=names))

    def _submit_or_ask(
        self, session: Session, member: LinkedMember, message: PrivateMessage, parsed: Parsed
    ) -> list[BotReply]:
        language = member.language
        if len(parsed.links) > MAX_BULK:
            text = say("too_many", language, limit=MAX_BULK, count=len(parsed.links))
            raise _Refusal("too_many", _reply(message, text))
        category = self._category(parsed.rest) if parsed.rest else None
        if category is not None:
            return self._submit(session, member, message, parsed.links, category)
        held = telegram_links.hold_links(session=session, member=member, links=parsed.links)
        if parsed.rest:
            text = say("unknown_category", language, word=parsed.rest[:64])
        else:
            text = say("choose", language, count=len(parsed.links))
        log.info("bot.held", links=len(parsed.links))
        return [
            BotReply(
                chat_id=message.chat_id,
                text=text,
                reply_to_message_id=message.message_id,
                buttons=self._keyboard(held, language),
            )
        ]

    def _pressed(
        self, session: Session, member: LinkedMember, message: PrivateMessage
    ) -> list[BotReply]:
        language = member.language
        match = PRESSED.match(message.pressed or "")
        offered = self._offered()
        if match is None or int(match.group(2)) >= len(offered):
            raise _Refusal("pressed_bad", _reply(message, say("pressed_bad", language)))
        held = uuid.UUID(bytes=base64.urlsafe_b64decode(match.group(1) + "=="))
        try:
            links = telegram_links.take_links(session=session, member=member, submission_id=held)
        except Forbidden:
            raise _Refusal(
                "pressed_other", _reply(message, say("pressed_other", language))
            ) from None
        except NotFound:
            raise _Refusal("pressed_gone", _reply(message, say("pressed_gone", language))) from None
        return self._submit(session, member, message, links, offered[int(match.group(2))])

    def _submit(
        self,
        session: Session,
        member: LinkedMember,
        message: PrivateMessage,
        links: list[str],
        category: Category,
    ) -> list[BotReply]:
        submitted = bulk.submit_many(
            session=session,
            caller=member.caller,
            lines=[{"target": link, "category": category.id} for link in links],
            policy=self.policy,
            keyring=self.keyring,
            notifier=self.notifier,
        )
        accepted = sum(1 for line in submitted.lines if line.status == "accepted")
        log.info("bot.submitted", lines=len(links), accepted=accepted)
        language = member.language
        header = say(
            "fates",
            language,
            category=category.display_name(language),
            accepted=accepted,
            others=len(links) - accepted,
        )
        rows = [
            f"{number}. {link} — {_fate(line, language)}"
            for number, (link, line) in enumerate(zip(links, submitted.lines, strict=True), 1)
        ]
        return [
            BotReply(chat_id=message.chat_id, text=part)
            for part in split_message("\n".join([header, *rows]))
        ]

    def _write_on_thread(
        self, session: Session, member: LinkedMember, message: PrivateMessage, report_id: uuid.UUID
    ) -> BotReply:
        language = member.language
        try:
            body = MessageIn(body=message.text.strip()).body
            threads.post_message(
                session=session,
                caller=member.caller,
                report_id=report_id,
                body=body,
                notifier=self.notifier,
                policy=self.policy,
            )
        except ValidationError as exc:
            error = exc.errors()[0]["msg"]
            raise _Refusal(
                "thread_refused", _reply(message, say("thread_refused", language, error=error))
            ) from None
        except TanggapError as exc:
            text = say("thread_refused", language, error=exc.message)
            raise _Refusal("thread_refused", _reply(message, text)) from None
        log.info("bot.thread_message")
        return _reply(message, say("thread_sent", language, ref=report_id))

    def _status(
        self, session: Session, member: LinkedMember, message: PrivateMessage, argument: str
    ) -> BotReply:
        language = member.language
        try:
            report_id = uuid.UUID(argument.strip())
        except ValueError:
            example = "0b6f0c1e-5d7a-4c43-9a61-2f1d8d0e4b21"
            raise _Refusal(
                "status_usage", _reply(message, say("status_usage", language, example=example))
            ) from None
        try:
            report = reports.get_visible(
                session=session, caller=member.caller, report_id=report_id, policy=self.policy
            )
        except NotFound:
            raise _Refusal(
                "status_unknown", _reply(message, say("status_unknown", language, ref=report_id))
            ) from None
        shown = present(session=session, reports=[report])[0]
        names = {category.id: category.display_name(language) for category in self._offered()}
        text = say(
            "status",
            language,
            ref=shown.report_id,
            url=shown.target.url,
            category=names.get(shown.category, shown.category),
            status=notices.STATUS_WORDS.get(language, notices.STATUS_WORDS["en"]).get(
                shown.status, shown.status
            ),
        )
        return _reply(message, text)

    def _offered(self) -> list[Category]:
        """The categories a flagger may choose, in the policy's order."""
        return list(self.policy.categories)

    def _category(self, words: str) -> Category | None:
        wanted = _folded(words)
        for category in self._offered():
            names = {category.id, category.id.replace("_", " "), *category.name.values()}
            if wanted in {_folded(name) for name in names}:
                return category
        return None

    def _keyboard(self, held: uuid.UUID, language: str) -> tuple[tuple[Button, ...], ...]:
        token = base64.urlsafe_b64encode(held.bytes).decode().rstrip("=")
        buttons = [
            Button(label=category.display_name(language), data=f"c:{token}:{index}")
            for index, category in enumerate(self._offered())
        ]
        return tuple(
            tuple(buttons[start : start + BUTTONS_PER_ROW])
            for start in range(0, len(buttons), BUTTONS_PER_ROW)
        )


_COMMANDS = frozenset({"/start", "/link", "/help", "/status"})


def _command(text: str) -> tuple[str | None, str]:
    """Return a message's command (``/start@bot`` read as ``/start``) and what follows it."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return None, stripped
    head, _, rest = stripped.partition(" ")
    return head.split("@", 1)[0].lower(), rest.strip()


def _fate(line: BulkLine, language: str) -> str:
    if line.status in ("accepted", "duplicate"):
        return say(line.status, language, ref=line.report_id)
    if line.status == "unknown_post":
        return say("unknown_post", language)
    return say("invalid", language, error=line.error or "")


def _folded(text: str) -> str:
    return " ".join(text.casefold().lstrip("#").replace("_", " ").split())


def _reply(message: PrivateMessage, text: str) -> BotReply:
    return BotReply(chat_id=message.chat_id, text=text, reply_to_message_id=message.message_id)
