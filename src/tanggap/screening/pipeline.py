"""The detection pipeline run on every ingested post, inside the ingest transaction: it records
what detection finds as signals and acts on it (opens the post's case, or decides it when a rule
or a bank says to remove on sight)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tanggap.actions.service import KINDS_OF_OUTCOME
from tanggap.banks import changes
from tanggap.banks.matcher import POLICY_STRENGTH, BankLookup, BankMatch, BankMatcher
from tanggap.cases import decisions, states
from tanggap.cases import service as cases
from tanggap.cases.models import Case, Outcome
from tanggap.db.base import utcnow
from tanggap.detection import service as detection
from tanggap.detection.rules_live import LiveRules
from tanggap.detection.service import NewSignal
from tanggap.detectors import classifier
from tanggap.detectors.language import detect_language
from tanggap.detectors.minhash import Signature, signature
from tanggap.detectors.normalise import normalise
from tanggap.notify.port import Notifier
from tanggap.policy.schemas import Policy
from tanggap.policy.service import compute_deadline
from tanggap.posts.inspection import Inspection, Screening
from tanggap.posts.models import Post
from tanggap.posts.schemas import PostIn
from tanggap.posts.service import post_url
from tanggap.review.decisions import decide_automatically
from tanggap.review.reach import unreachable
from tanggap.screening.findings import Found, classifier_signals, rule_signals
from tanggap.screening.removed import RemovedContent

ACTOR = "system:detection"


@dataclass
class Matched:
    """What a matcher did with one post: how many new signals, which actions it queued."""

    new: int = 0
    actions: list[uuid.UUID] = field(default_factory=list)


class DetectionPipeline:
    """Inspects new and edited posts: language, text fingerprint, re-uploads of removed content,
    media against the hash banks (with their automatic actions)."""

    def __init__(
        self,
        policy: Policy,
        notifier: Notifier,
        rules: LiveRules,
        banks: BankLookup | None = None,
        default_platform: str = "builtin",
    ):
        self.policy = policy
        self.default_platform = default_platform
        self.notifier = notifier
        self.banks: BankLookup = banks or BankMatcher()
        self.removed = RemovedContent()
        self.rules = rules

    def warm_up(self) -> None:
        """Load the language models and the classifier now (seconds), not on the first post."""
        detect_language("Selamat pagi semua, apa kabar hari ini?")
        classifier.packaged()

    def inspect(self, *, session: Session, post: Post, created: bool) -> Inspection:
        """Detect the language, fingerprint the text, run the rules, flag copies, match media;
        return the actions an automatic decision queued."""
        post.language = detect_language(post.text)
        normalised = normalise(post.text)  # once, for every text matcher below
        text = detection.fingerprint(
            session=session, post=post, normalised=normalised, created=created
        )
        queued: list[uuid.UUID] = []
        if text is not None:
            queued += self.apply_rules(session=session, post=post, normalised=normalised).actions
            self._classify(session, post, normalised)
            self._removed_copies(session, post, normalised, text)
        if post.media or text is not None:
            queued += self.match_banks(session=session, post=post, text=text).actions
        return Inspection(queued_actions=tuple(queued))

    def screen(self, *, session: Session, posts: Sequence[PostIn]) -> list[Screening]:
        """Look at new posts before they are stored, as ``inspect`` would, changing nothing: a
        post that may act (a rule that does more than flag, a bank match, a near-copy of removed
        content) is marked so and inspected on its own once stored; the others carry their
        fingerprint and signals to ``record``. The rules, banks and removed content are brought
        up to date once for the batch."""
        banks_seen = changes.heads(session).entry
        rules = self.rules.fresh(session)
        bound = self.policy.detection.near_duplicate_similarity
        model = classifier.packaged()
        looked = []
        for post in posts:
            language = detect_language(post.text)
            normalised = normalise(post.text)
            looked.append((post, language, normalised, signature(normalised)))
        texts = [(i, text) for i, (_, _, _, text) in enumerate(looked) if text is not None]
        with_text = [text for _, text in texts]
        alike = self.banks.match_texts(session=session, found=with_text, bound=bound)
        removed = self.removed.may_copy(session=session, found=with_text, bound=bound)
        acting = {i for (i, _), a, r in zip(texts, alike, removed, strict=True) if a or r}
        media = [(i, item) for i, post in enumerate(posts) for item in post.media]
        matched = self.banks.match(session=session, media=[item for _, item in media])
        acting |= {i for (i, _), found in zip(media, matched, strict=True) if found}
        screenings = []
        for i, (post, language, normalised, text) in enumerate(looked):
            signals: list[NewSignal] | None = []
            if text is not None and i not in acting:
                signals = rule_signals(rules.match(post.text, language, normalised))
                if signals is not None and model is not None:
                    signals += classifier_signals(model.flagged(post.text, normalised))
            if signals is None or i in acting:
                screenings.append(Screening(language, acts=True))
            else:
                found = Found(text, signals, post.media, banks_seen)
                screenings.append(Screening(language, acts=False, findings=found))
        return screenings

    def record(
        self, *, session: Session, stored: Sequence[tuple[int, Screening]]
    ) -> dict[int, tuple[uuid.UUID, ...]]:
        """Store the fingerprints and signals screened on posts that do not act, in bulk. Should
        a bank have taken an entry since the screening (the scan it queued stops short of posts
        stored after it), the posts are matched against the banks again, the exact way; return
        the actions that queued, by post id."""
        found = [(post_id, s.findings) for post_id, s in stored if isinstance(s.findings, Found)]
        detection.store_fingerprints(
            session=session,
            found=[(post_id, f.text) for post_id, f in found if f.text is not None],
        )
        detection.record_signals(
            session=session,
            found=[(post_id, signal) for post_id, f in found for signal in f.signals],
        )
        if not found:
            return {}
        newest = changes.heads(session).entry
        acted: dict[int, tuple[uuid.UUID, ...]] = {}
        for post_id, f in found:
            if f.banks_seen >= newest or not (f.media or f.text):
                continue
            post = session.get(Post, post_id)
            assert post is not None
            matched = self.match_banks(session=session, post=post, text=f.text)
            if matched.actions:
                acted[post_id] = tuple(matched.actions)
        return acted

    def _classify(self, session: Session, post: Post, normalised: str) -> None:
        model = classifier.packaged()
        if model is None:
            return
        for signal in classifier_signals(model.flagged(post.text, normalised)):
            detection.record_signal(
                session=session,
                post=post,
                kind=signal.kind,
                source=signal.source,
                score=signal.score,
                detail=signal.detail,
            )

    def apply_rules(
        self, *, session: Session, post: Post, normalised: str, only: set[str] | None = None
    ) -> Matched:
        """Run the rules in force (or only those named) on the post; record a signal per rule
        hit not recorded before, and act on the strongest effect."""
        acting = None
        new = 0
        for hit in self.rules.fresh(session).match(post.text, post.language, normalised):
            if only is not None and hit.rule.id not in only:
                continue
            if detection.has_signal(session=session, post_id=post.id, source=f"rule:{hit.rule.id}"):
                continue  # matched before (at ingest, or by an earlier scan)
            new += 1
            effect = hit.rule.effect
            detection.record_signal(
                session=session,
                post=post,
                kind="rule",
                source=f"rule:{hit.rule.id}",
                score=effect.score,
                detail={
                    "matched": hit.matched,
                    "category": hit.rule.category,
                    "effect": effect.kind,
                },
            )
            if effect.kind != "flag" and (acting is None or effect.auto_remove):
                acting = hit
        if acting is None:
            return Matched(new)
        case = self._automated_case(session, post, acting.rule.category)
        if not acting.rule.effect.auto_remove or case.state not in states.OPEN_STATES:
            return Matched(new)
        queued = self._decide(
            session,
            case,
            "remove",
            [],
            f"rule/{acting.rule.id}",
            f"Matched the rule {acting.rule.id} ({acting.matched!r}).",
        )
        return Matched(new, queued)

    def _decide(
        self,
        session: Session,
        case: Case,
        outcome: Outcome,
        countries: list[str],
        policy_ref: str,
        explanation: str,
    ) -> list[uuid.UUID]:
        post = session.get(Post, case.post_id)
        assert post is not None
        cannot = unreachable(
            session, post, KINDS_OF_OUTCOME.get(outcome, ()), self.default_platform
        )
        if cannot is not None:
            # The platform cannot carry it out: the case stays open for a reviewer.
            cases.audit_case(
                session, ACTOR, "case.automatic_decision_withheld", case,
                outcome=outcome, policy_ref=policy_ref, reason=cannot,
            )  # fmt: skip
            return []
        result = decide_automatically(
            session=session,
            case=case,
            outcome=outcome,
            countries=countries,
            policy_ref=policy_ref,
            explanation=explanation,
            actor=ACTOR,
            policy=self.policy,
            notifier=self.notifier,
        )
        return [action.id for action in result.actions]

    def match_banks(
        self,
        *,
        session: Session,
        post: Post,
        bank_id: uuid.UUID | None = None,
        text: Signature | None = None,
    ) -> Matched:
        """Match the post's media (and its text signature, when given) against the banks, or one
        bank; record the signals and act on the strongest match."""
        found: list[tuple[int | None, BankMatch]] = []
        if post.media:
            for item, matches in zip(
                post.media, self.banks.match(session=session, media=post.media), strict=True
            ):
                found.extend((item.position, m) for m in matches)
        if text is not None:
            bound = self.policy.detection.near_duplicate_similarity
            found.extend(
                (None, m)
                for m in self.banks.match_text(
                    session=session, found=text, bound=bound, bank_id=bank_id
                )
            )
        strongest = None
        new = 0
        for position, match in found:
            if bank_id is not None and match.bank.id != bank_id:
                continue
            source = f"bank:{match.bank.name}"
            if detection.has_signal(session=session, post_id=post.id, source=source):
                continue  # seen at ingest or by an earlier scan: do nothing twice
            new += 1
            detection.record_signal(
                session=session,
                post=post,
                kind="hash_match",
                source=source,
                score=match.score,
                detail={
                    "bank": match.bank.name,
                    "policy": match.bank.policy,
                    "hash": match.kind,
                    "distance": match.distance,
                    "media": position,
                    "category": match.bank.category,
                },
            )
            if (
                strongest is None
                or POLICY_STRENGTH[match.bank.policy] > POLICY_STRENGTH[strongest.bank.policy]
            ):
                strongest = match
        if strongest is None:
            return Matched(new)
        return Matched(new, self._act_on_match(session, post, strongest))

    def _act_on_match(self, session: Session, post: Post, match: BankMatch) -> list[uuid.UUID]:
        bank = match.bank
        case = self._automated_case(session, post, bank.category)
        if bank.policy == "review" or case.state not in states.OPEN_STATES:
            return []  # a reviewer decides; a decided case is not decided twice
        outcome: Outcome = "remove" if bank.policy == "auto_remove" else "geo_restrict"
        return self._decide(
            session,
            case,
            outcome,
            list(bank.countries) if outcome == "geo_restrict" else [],
            f"bank/{bank.name}",
            f"Matched an entry of the hash bank {bank.name} ({match.kind}, {match.closeness}).",
        )

    def _automated_case(self, session: Session, post: Post, category: str) -> Case:
        """Open (or join) the post's case as detection's: automated, with its category's
        deadline counted from now."""
        return cases.open_or_join(
            session=session,
            post=post,
            category=category,
            deadline=compute_deadline(
                policy=self.policy,
                received_at=utcnow(),
                source="automated",
                order_type="notice",
                category_id=category,
            ),
            policy=self.policy,
            actor=ACTOR,
            automated=True,
        )

    def _removed_copies(
        self, session: Session, post: Post, normalised: str, text: Signature
    ) -> None:
        bound = self.policy.detection.near_duplicate_similarity
        copies = self.removed.copies(
            session=session, post=post, normalised=normalised, found=text, bound=bound
        )
        if not copies:
            return
        original_id, similarity = copies[0]
        case = session.execute(select(Case).where(Case.post_id == original_id)).scalar_one_or_none()
        decision = decisions.in_force(session=session, case_id=case.id) if case else None
        if case is None or decision is None:
            return
        _, handle = cases.post_of(session=session, case=case)
        original = session.get(Post, original_id)
        assert original is not None
        detection.record_signal(
            session=session,
            post=post,
            kind="near_duplicate",
            source="removed_content",
            score=similarity,
            detail={
                "of": post_url(handle, original.message_id),
                "case_id": str(case.id),
                "decision_id": str(decision.id),
                "category": decision.category,
            },
        )
        if session.execute(select(Case.id).where(Case.post_id == post.id)).first() is None:
            # A re-upload of removed content waits for a reviewer (an automated case); hash
            # banks with an auto_remove policy are the route to removing on sight.
            self._automated_case(session, post, decision.category)
