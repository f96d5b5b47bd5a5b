"""The detection pipeline run on every ingested post, inside the ingest transaction."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tanggap.banks.service import POLICY_STRENGTH, BankMatch, BankMatcher
from tanggap.cases import flows
from tanggap.cases import service as cases
from tanggap.cases.models import Case
from tanggap.cases.schemas import OPEN_STATES
from tanggap.db.base import utcnow
from tanggap.detection import service as detection
from tanggap.detection.engine import classifier
from tanggap.detection.engine.language import detect_language
from tanggap.detection.engine.minhash import Signature, SignatureIndex
from tanggap.detection.engine.normalise import normalise
from tanggap.detection.models import PostFingerprint
from tanggap.detection.rules_live import LiveRules
from tanggap.notify.service import Notifier
from tanggap.platform.models import Restriction
from tanggap.policy.schemas import Policy
from tanggap.policy.service import compute_deadline
from tanggap.posts.models import Post
from tanggap.posts.service import post_url
from tanggap.reports import service as reports

ACTOR = "system:detection"


QUEUED_ACTIONS = "tanggap.queued_actions"
# The policy category a classifier label points to (abusive language is a signal, no category).
CLASSIFIER_CATEGORY = {"hate_speech": "hate_speech", "fraud": "fraud"}


class DetectionPipeline:
    """Inspects new and edited posts: language, text fingerprint, re-uploads of removed content,
    media against the hash banks (with their automatic actions)."""

    def __init__(self, policy: Policy, notifier: Notifier, rules: LiveRules):
        self.policy = policy
        self.notifier = notifier
        self.banks = BankMatcher()
        self.removed = RemovedContent()
        self.rules = rules

    def inspect(self, *, session: Session, post: Post, created: bool) -> None:
        """Detect the language, fingerprint the text, run the rules, flag copies, match media."""
        post.language = detect_language(post.text)
        normalised = normalise(post.text)  # once, for every text matcher below
        text = detection.fingerprint(
            session=session, post=post, normalised=normalised, created=created
        )
        if text is not None:
            self.apply_rules(session=session, post=post, normalised=normalised)
            self._classify(session, post, normalised)
            self._removed_copies(session, post, normalised, text)
        if post.media or text is not None:
            self.match_banks(session=session, post=post, text=text)

    def _classify(self, session: Session, post: Post, normalised: str) -> None:
        model = classifier.packaged()
        if model is None:
            return
        for label, score in model.flagged(post.text, normalised).items():
            detection.record_signal(
                session=session,
                post=post,
                kind="classifier",
                source=f"classifier:{label}",
                score=round(score, 3),
                detail={"label": label, "category": CLASSIFIER_CATEGORY.get(label)},
            )

    def apply_rules(
        self, *, session: Session, post: Post, normalised: str, only: set[str] | None = None
    ) -> int:
        """Run the rules in force (or only those named) on the post; record a signal per rule
        hit not recorded before, and act on the strongest effect. Return how many were new."""
        acting = None
        new = 0
        for hit in self.rules.fresh().match(post.text, post.language, normalised):
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
            return new
        case = self._automated_case(session, post, acting.rule.category)
        if acting.rule.effect.auto_remove and case.state in OPEN_STATES:
            self._decide(
                session,
                case,
                "remove",
                [],
                f"rule/{acting.rule.id}",
                f"Matched the rule {acting.rule.id} ({acting.matched!r}).",
            )
        return new

    def _decide(
        self,
        session: Session,
        case: Case,
        outcome: str,
        countries: list[str],
        policy_ref: str,
        explanation: str,
    ) -> None:
        result = flows.decide_automatically(
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
        session.info.setdefault(QUEUED_ACTIONS, []).extend(a.id for a in result.actions)

    def match_banks(
        self,
        *,
        session: Session,
        post: Post,
        bank_id: uuid.UUID | None = None,
        text: Signature | None = None,
    ) -> int:
        """Match the post's media (and its text signature, when given) against the banks, or one
        bank; record the signals and act on the strongest match. Return how many were new."""
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
        if strongest is not None:
            self._act_on_match(session, post, strongest)
        return new

    def _act_on_match(self, session: Session, post: Post, match: BankMatch) -> None:
        bank = match.bank
        case = self._automated_case(session, post, bank.category)
        if bank.policy == "review" or case.state not in OPEN_STATES:
            return  # a reviewer decides; a decided case is not decided twice
        outcome = "remove" if bank.policy == "auto_remove" else "geo_restrict"
        self._decide(
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
        decision = reports.latest_decision(session=session, case_id=case.id) if case else None
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


class RemovedContent:
    """The text signatures of the posts removed and not restored, in memory, so that checking a
    new post for a re-upload costs one small version query instead of a band search."""

    def __init__(self) -> None:
        self._version: tuple[int, int] | None = None
        self._index = SignatureIndex([])

    ACTIVE = (
        Restriction.kind == "removed",
        Restriction.lifted_at.is_(None),
        Restriction.post_id.is_not(None),
    )

    def _refresh(self, session: Session) -> None:
        count, last = session.execute(
            select(func.count(Restriction.id), func.coalesce(func.max(Restriction.id), 0)).where(
                *self.ACTIVE
            )
        ).one()
        version = (int(count), int(last))  # a lift lowers the count, a removal raises the id
        if version == self._version:
            return
        rows = session.execute(
            select(PostFingerprint.post_id, PostFingerprint.minhash).where(
                PostFingerprint.post_id.in_(select(Restriction.post_id).where(*self.ACTIVE))
            )
        ).all()
        self._index = SignatureIndex([(post_id, minhash) for post_id, minhash in rows])
        self._version = version

    def copies(
        self, *, session: Session, post: Post, normalised: str, found: Signature, bound: float
    ) -> list[tuple[int, float]]:
        """Return (post id, exact similarity) of the removed posts the text copies, closest
        first."""
        self._refresh(session)
        near = self._index.query(found, bound - detection.ESTIMATE_SLACK)
        near = [(post_id, sim) for post_id, sim in near if post_id != post.id]
        if not near:
            return []
        rows = session.execute(
            select(PostFingerprint.post_id, PostFingerprint.minhash, Post.text)
            .join(Post, Post.id == PostFingerprint.post_id)
            .where(PostFingerprint.post_id.in_([post_id for post_id, _ in near]))
        ).all()
        kept = detection.confirm(text=normalised, found=found, rows=rows, bound=bound)
        return sorted(kept, key=lambda pair: (-pair[1], pair[0]))
