"""Everything a running process shares: settings, database, policy, engines behind interfaces."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import tanggap.db.models  # noqa: F401  (every table, so foreign keys resolve)
from tanggap.actions.adapters import BuiltinPagesAdapter, PlatformAdapter
from tanggap.config import Settings
from tanggap.db.session import make_engine, make_session_factory
from tanggap.detection.hook import PostInspector
from tanggap.detection.media import MediaHasher
from tanggap.detection.pipeline import DetectionPipeline
from tanggap.detection.rules_live import LiveRules
from tanggap.notify.outbox import OutboxNotifier, lead_webhook_from
from tanggap.notify.service import Notifier
from tanggap.policy.schemas import Policy
from tanggap.policy.service import load_policy


@dataclass
class Runtime:
    """The shared parts of one process (API server, worker or CLI command)."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    policy: Policy
    adapter: PlatformAdapter = field(default_factory=BuiltinPagesAdapter)
    notifier: Notifier = field(default_factory=OutboxNotifier)
    rules: LiveRules = field(init=False)
    pipeline: DetectionPipeline = field(init=False)
    media: MediaHasher = field(init=False)

    def __post_init__(self) -> None:
        self.rules = LiveRules(self.settings.rules_dir, self.policy)
        self.pipeline = DetectionPipeline(self.policy, self.notifier, self.rules)
        self.media = MediaHasher(self.factory, self.pipeline, self._deliver)

    def _deliver(self, action_ids: list[uuid.UUID]) -> None:
        from tanggap.actions.jobs import deliver  # the outbox's delivery needs the runtime

        deliver(self, action_ids=action_ids)

    @property
    def inspector(self) -> PostInspector:
        """What looks at every ingested post: the detection pipeline."""
        return self.pipeline

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    """Build the runtime for ``settings``: engine, session factory, validated policy."""
    policy = load_policy(settings.policy_file)
    engine = make_engine(settings.database_url)
    return Runtime(
        settings=settings,
        engine=engine,
        factory=make_session_factory(engine),
        policy=policy,
        notifier=OutboxNotifier(lead_webhook=lead_webhook_from(settings)),
    )
