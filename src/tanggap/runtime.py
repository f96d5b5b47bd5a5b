"""Everything a running process shares, assembled once: settings, database, policy, and the
engines behind their interfaces (platform adapter, notifier, detection pipeline, image hasher).
The composition root: nothing below the edges and the jobs imports it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

import httpx
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import tanggap.tables  # noqa: F401  (every table, so foreign keys resolve)
from tanggap.actions.delivery import ActionDelivery
from tanggap.actions.platform import PlatformAdapter
from tanggap.audit import service as audit
from tanggap.audit.sealer import CheckpointRule, seal_round
from tanggap.audit.signing import load_key
from tanggap.builtin_pages.adapter import BuiltinPagesAdapter
from tanggap.config import Settings
from tanggap.db.session import close_session_factory, make_engine, make_session_factory
from tanggap.detection.rule_set import VersionStore
from tanggap.detection.rules_live import LiveRules
from tanggap.eu_database.delivery import EuStatementDelivery, eu_database_from
from tanggap.eu_database.service import EuStatementQueue
from tanggap.flaggers.telegram_ids import LinkKeys
from tanggap.notify.bot import BotNoticeDelivery, BotNotifier
from tanggap.notify.chat import BotSender
from tanggap.notify.fanout import Notifiers
from tanggap.notify.port import Notifier
from tanggap.notify.webhooks import OutboxNotifier, WebhookDelivery, lead_webhook_from
from tanggap.outbox import deliver_due, deliver_due_in_batches
from tanggap.platforms.http import http_adapter_from
from tanggap.platforms.routing import RoutingAdapter, close_if_closable
from tanggap.platforms.telegram import bot_api, telegram_adapter
from tanggap.policy.schemas import Policy
from tanggap.policy.service import load_policy
from tanggap.posts.schemas import PostIn
from tanggap.posts.service import IngestResult
from tanggap.reports import service as reports
from tanggap.reports.present import describe
from tanggap.screening.media import MediaHasher
from tanggap.screening.pipeline import DetectionPipeline
from tanggap.transparency.builds import Builds
from tanggap.transparency.requests import GovernmentRequestFigures, from_register

log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    """The shared parts of one process (API server, worker or CLI command)."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    policy: Policy
    adapter: PlatformAdapter
    notifier: Notifier
    # The flaggers' bot's way out to Telegram; bot notices wait in their outbox until one is set.
    bot: BotSender | None = None
    # 1.2.2 of the transparency report: the legal register's counts of government requests.
    government_requests: GovernmentRequestFigures = from_register
    # The public transparency reports this process builds at once.
    transparency_builds: Builds = field(default_factory=Builds)
    rules: LiveRules = field(init=False)
    pipeline: DetectionPipeline = field(init=False)
    media: MediaHasher = field(init=False)

    def __post_init__(self) -> None:
        self.rules = LiveRules(self.settings.rules_dir, self.policy, VersionStore(self.factory))
        self.pipeline = DetectionPipeline(
            self.policy, self.notifier, self.rules, default_platform=self.settings.platform
        )
        self.media = MediaHasher(self.factory, self.pipeline, self.deliver_actions)

    def deliver_actions(
        self, action_ids: Iterable[uuid.UUID] | None = None, now: datetime | None = None
    ) -> int:
        """Deliver the due actions (or only those named) through the platform adapter, outside
        any transaction; return how many the platform applied."""
        kind = ActionDelivery(
            adapter=self.adapter,
            policy=self.policy,
            retry_seconds=self.settings.action_retry_seconds,
            max_attempts=self.settings.action_max_attempts,
            lease=timedelta(seconds=self.settings.action_lease_seconds),
            on_decision_delivered=self._settle_reports,
        )
        return deliver_due(kind, factory=self.factory, now=now, only=action_ids)

    def deliver_now(self, action_ids: Iterable[uuid.UUID], reason: str) -> None:
        """Deliver just-committed actions at once; whatever fails stays in the outbox for the
        background job."""
        ids = list(action_ids)
        if not ids:
            return
        try:
            self.deliver_actions(action_ids=ids)
        except Exception:  # the outbox keeps them: the job retries
            log.exception("actions.delivery_deferred", of=reason)

    def has_room_for(self, posts: Iterable[PostIn]) -> bool:
        """Tell whether the images sent with ``posts`` fit in the queue of images to hash."""
        incoming = sum(len(m.data or "") * 3 // 4 for post in posts for m in post.media)
        return not incoming or self.media.has_room(incoming)

    def after_ingest(self, results: list[IngestResult]) -> None:
        """Hand the images to the hasher and deliver the automatic actions committed with the
        posts (the outbox retries them otherwise); call it once the posts are committed."""
        self.media.submit([item for result in results for item in result.to_hash])
        queued = [action for result in results for action in result.queued_actions]
        self.deliver_now(queued, reason=f"ingest of {len(results)} posts")

    @cached_property
    def checkpoint_key(self) -> Ed25519PrivateKey:
        """The key that signs audit checkpoints (loaded, or made in development, on first use)."""
        return load_key(self.settings)

    def seal_audit(self) -> int:
        """Chain the audit events that wait, sign a checkpoint when due and queue it to the
        flagger organisations; return how many events were sealed."""
        settings = self.settings
        rule = CheckpointRule(
            every=settings.audit_checkpoint_every, seconds=settings.audit_checkpoint_seconds
        )
        return seal_round(
            factory=self.factory,
            key=self.checkpoint_key,
            rule=rule,
            publish=lambda session, checkpoint: self.notifier.checkpoint_signed(
                session=session, checkpoint=checkpoint.as_json()
            ),
        )

    def send_webhooks(self, client: httpx.Client, now: datetime | None = None) -> int:
        """Send the due webhooks; return how many were delivered."""
        settings = self.settings
        kind = WebhookDelivery(
            client=client,
            retry_seconds=settings.webhook_retry_seconds,
            give_up_after=timedelta(hours=settings.webhook_give_up_hours),
            timeout_seconds=settings.webhook_timeout_seconds,
            lead_webhook=lead_webhook_from(settings),
        )
        return deliver_due(kind, factory=self.factory, now=now)

    def send_bot_notices(self, now: datetime | None = None) -> int:
        """Send the due notices of the flaggers' bot (none without a bot); return how many."""
        if self.bot is None:
            return 0
        settings = self.settings
        kind = BotNoticeDelivery(
            sender=self.bot,
            link_keys=LinkKeys.of(settings.secret_key),
            retry_seconds=settings.webhook_retry_seconds,
            give_up_after=timedelta(hours=settings.webhook_give_up_hours),
        )
        return deliver_due(kind, factory=self.factory, now=now)

    def send_eu_statements(self, client: httpx.Client, now: datetime | None = None) -> int:
        """Send the due statements of reasons to the EU Transparency Database in batches (none
        when it is not configured); return how many it holds now."""
        database = eu_database_from(self.settings)
        if database is None:
            return 0
        kind = EuStatementDelivery(client=client, database=database)
        return deliver_due_in_batches(
            kind, factory=self.factory, batch_size=database.batch_size, now=now
        )

    def _settle_reports(self, session: Session, case_id: uuid.UUID, decision_id: uuid.UUID) -> None:
        # Every action of the decision reached the platform: its reports are actioned.
        reports.settle_actioned(
            session=session,
            case_id=case_id,
            decision_id=decision_id,
            actor=audit.SYSTEM_ACTOR,
            notifier=self.notifier,
        )

    def close(self) -> None:
        """Send the last wake-ups, release the database connections and those the platform
        adapters and the bot hold."""
        try:
            close_session_factory(self.factory)
            self.engine.dispose()
        finally:
            close_if_closable(self.adapter)
            close_if_closable(self.bot)


def platform_adapter(settings: Settings, factory: sessionmaker[Session]) -> PlatformAdapter:
    """Route each action to its channel's platform: the built-in pages always, the signed HTTP
    endpoint and Telegram when configured."""
    adapters: dict[str, PlatformAdapter] = {"builtin": BuiltinPagesAdapter(factory)}
    if (http := http_adapter_from(settings)) is not None:
        adapters["http"] = http
    if settings.telegram_token is not None:  # the connector's channels name their platform
        adapters["telegram"] = telegram_adapter(settings)
    return RoutingAdapter(adapters, default=settings.platform)


def build_runtime(settings: Settings, adapter: PlatformAdapter | None = None) -> Runtime:
    """Build the runtime for ``settings``: engine, session factory, validated policy; the
    configured platforms unless ``adapter`` says otherwise."""
    policy = load_policy(settings.policy_file)
    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    factory = make_session_factory(engine)
    return Runtime(
        settings=settings,
        engine=engine,
        factory=factory,
        policy=policy,
        adapter=adapter or platform_adapter(settings, factory),
        bot=bot_api(settings) if settings.telegram_token is not None else None,
        notifier=Notifiers(
            OutboxNotifier(describe_report=describe, lead_webhook=lead_webhook_from(settings)),
            BotNotifier(describe_report=describe),
            *([EuStatementQueue(policy)] if eu_database_from(settings) else []),
        ),
    )
