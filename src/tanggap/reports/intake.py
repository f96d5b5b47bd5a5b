"""Report intake, one report or a batch: read in a few queries, judged report by report, written
together."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from tanggap.actions import service as actions
from tanggap.audit import service as audit
from tanggap.auth.schemas import Caller
from tanggap.cases import decisions
from tanggap.cases import service as cases
from tanggap.cases.models import Case
from tanggap.cases.states import CaseState
from tanggap.db.base import insert_rows, new_id, table_of, utcnow
from tanggap.errors import Forbidden, InvalidInput
from tanggap.notify.port import Notifier, ReportChange
from tanggap.policy.schemas import Policy, Source
from tanggap.policy.service import compute_deadline, require_category
from tanggap.posts import service as posts
from tanggap.posts.models import Post
from tanggap.pseudonyms import Keyring
from tanggap.reports.models import Report, ReportStatus
from tanggap.reports.schemas import OPEN_STATUSES, ReportIn

# A new report on a post taken down everywhere is answered by that takedown.
SETTLING_OUTCOMES = frozenset({"remove", "ban_channel", "ban_member"})


@dataclass
class Held:
    """The new cases and reports of a batch, kept out of the session and inserted together at
    the end (``insert_held``): no unit of work for them."""

    cases: list[Case] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)


@dataclass
class Intake:
    """The outcome of submitting one report."""

    report: Report
    duplicate: bool


def source_of(caller: Caller) -> Source:
    """Return the report source a caller's role stands for."""
    if caller.role == "flagger":
        return "flagger"
    if caller.role == "platform":
        return "user"
    raise Forbidden(f"a {caller.role} cannot submit reports")


@dataclass
class Known:
    """What intake reads before it writes, for one report or a whole batch: the reported posts
    (locked), their cases (locked; None where a post has none yet) and the caller's open
    reports on them (the duplicates to look for). Intake keeps it up to date as it goes, so the
    lines of a batch see each other."""

    posts: dict[tuple[str, int], Post]
    cases: dict[int, Case | None]
    open_reports: dict[int, list[Report]]


def read_targets(
    *, session: Session, caller: Caller, reports: Collection[ReportIn], keyring: Keyring
) -> Known:
    """Lock the posts ``reports`` name and their cases, and read the caller's open reports on
    them in the same categories (from the same users, for a platform): a few queries, however
    many reports. Rows are locked in id order, so two batches never wait on each other in a
    circle."""
    targets = {(data.target.channel, data.target.message_id) for data in reports}
    found = posts.get_many(session=session, targets=targets, lock=True) if targets else {}
    if not found:
        return Known(posts={}, cases={}, open_reports={})
    post_ids = [post.id for post in found.values()]
    locked = cases.locks_of_posts(session=session, post_ids=post_ids)
    mine = _callers_open_reports(session, caller, post_ids, reports, keyring)
    return Known(
        posts=found,
        cases={post_id: locked.get(post_id) for post_id in post_ids},
        open_reports=mine,
    )


def _callers_open_reports(
    session: Session,
    caller: Caller,
    post_ids: Collection[int],
    reports: Collection[ReportIn],
    keyring: Keyring,
) -> dict[int, list[Report]]:
    # Only the caller's own reports can be the duplicate of a new one (``_same`` decides): an
    # organisation's for a flagger; for a platform, those of the same users, so that a post
    # thousands of users reported does not load thousands of reports.
    if caller.role == "flagger":
        scope = Report.flagger_org_id == caller.org_id
    elif caller.role == "platform":
        # The same user under every key of the ring: a report made before a rotation counts.
        users = {ref for data in reports for ref in _reporter_refs(data, keyring)}
        if not users:
            return {}
        scope = and_(Report.submitted_by_id == caller.id, Report.reporter_ref.in_(users))
    else:
        return {}
    found: dict[int, list[Report]] = {}
    for report in session.execute(
        select(Report)
        .where(Report.post_id.in_(post_ids))
        .where(Report.category.in_({data.category for data in reports}))
        .where(Report.status.in_(OPEN_STATUSES))
        .where(scope)
        .order_by(Report.received_at, Report.id)
    ).scalars():
        found.setdefault(report.post_id, []).append(report)
    return found


def submit(
    *,
    session: Session,
    caller: Caller,
    data: ReportIn,
    policy: Policy,
    keyring: Keyring,
    notifier: Notifier,
) -> Intake:
    """Accept a report: find its post, fix its deadline, put it on the post's case."""
    source_of(caller)  # a caller that cannot report learns it before anything is read
    known = read_targets(session=session, caller=caller, reports=[data], keyring=keyring)
    intake = accept(
        session=session,
        caller=caller,
        data=data,
        policy=policy,
        keyring=keyring,
        known=known,
    )
    if not intake.duplicate:
        notify_received(notifier, session, [intake.report])
    return intake


def accept(
    *,
    session: Session,
    caller: Caller,
    data: ReportIn,
    policy: Policy,
    keyring: Keyring,
    known: Known,
    held: Held | None = None,
) -> Intake:
    """Accept one report on a post that ``known`` holds (locked). Every check comes before the
    first change, so a refused report leaves nothing behind; nothing is flushed, so a batch
    writes its reports, cases and events together (with ``held``, a new case and the new report
    are put there for ``insert_held`` instead of into the session). The caller tells the
    notifier."""
    source = source_of(caller)
    require_category(policy=policy, category=data.category)
    if data.order_type == "removal_order" and source != "flagger":
        raise InvalidInput("only a trusted flagger can send a removal order", field="order_type")
    if data.reporter_id is not None and source != "user":
        raise InvalidInput(
            "reporter_id is for a platform forwarding its users' reports", field="reporter_id"
        )
    post = known.posts.get((data.target.channel, data.target.message_id))
    if post is None:
        link = posts.post_url(data.target.channel, data.target.message_id)
        raise InvalidInput(
            f"no post {link} is known to Tanggap; the platform must ingest it first",
            field="target",
            code="unknown_post",
        )
    reporter_ref = _reporter_ref(data, keyring)
    open_reports = known.open_reports.setdefault(post.id, [])
    for earlier in open_reports:
        if _same(earlier, caller, data, _reporter_refs(data, keyring)):
            return Intake(report=earlier, duplicate=True)

    received_at = utcnow()
    deadline = compute_deadline(
        policy=policy,
        received_at=received_at,
        source=source,
        order_type=data.order_type,
        category_id=data.category,
    )
    if data.deadline is not None:
        # An order may set a tighter clock than the policy's, never a looser one.
        if data.deadline <= received_at:
            raise InvalidInput("the order's deadline has already passed", field="deadline")
        deadline = min(deadline, data.deadline)
    case = cases.open_or_join_locked(
        session=session,
        case=known.cases.get(post.id),
        post=post,
        category=data.category,
        deadline=deadline,
        policy=policy,
        actor=caller.audit_actor,
        held=None if held is None else held.cases,
    )
    known.cases[post.id] = case
    report = Report(
        id=new_id(),
        case_id=case.id,
        post_id=post.id,
        source=source,
        category=data.category,
        order_type=data.order_type,
        legal_basis=data.legal_basis,
        issuing_authority=data.issuing_authority,
        note=data.note,
        flagger_org_id=caller.org_id if source == "flagger" else None,
        reporter_ref=reporter_ref,
        key_id=keyring.current.key_id if reporter_ref is not None else None,
        submitted_by_id=caller.id,
        status=ReportStatus.RECEIVED,
        received_at=received_at,
        deadline=deadline,
    )
    _settle_on_decided_case(session, case, report)
    if held is None:
        session.add(report)
    else:
        held.reports.append(report)
    if report.status in OPEN_STATUSES:
        open_reports.append(report)
    audit.record(
        session=session,
        actor=caller.audit_actor,
        action="report.received",
        subject_type="report",
        subject_id=report.id,
        data={
            "case_id": str(case.id),
            "source": source,
            "category": data.category,
            "order_type": data.order_type,
            "deadline": deadline.isoformat(),
            "status": report.status,
        },
    )
    return Intake(report=report, duplicate=False)


def insert_held(session: Session, held: Held) -> None:
    """Insert the cases and reports ``accept`` held, one statement each (``COPY`` on
    PostgreSQL), after whatever the session holds: the rows as they stand at the end of the
    batch (a case later lines joined carries their count)."""
    session.flush()
    for model, rows in ((Case, held.cases), (Report, held.reports)):
        table = table_of(model)
        insert_rows(
            session, model, [{k: v for k, v in vars(row).items() if k in table.c} for row in rows]
        )


def _reporter_refs(data: ReportIn, keyring: Keyring) -> set[str]:
    """The pseudonyms under every key of the platform user a report forwards, if any."""
    if data.reporter_id is None:
        return set()
    return set(keyring.refs(str(data.reporter_id)).values())


def _reporter_ref(data: ReportIn, keyring: Keyring) -> str | None:
    """The pseudonym of the platform user a report forwards (current key), if it forwards one."""
    if data.reporter_id is None:
        return None
    return keyring.ref(str(data.reporter_id))


def _same(earlier: Report, caller: Caller, data: ReportIn, reporter_refs: Collection[str]) -> bool:
    # The same reporter pressing "report" again on a post still under review adds nothing. A
    # removal order is a legal instrument with its own authority, basis and clock: only the
    # same order sent again is a duplicate, never an earlier notice (a notice after an order
    # adds nothing to it, so it is the order's duplicate).
    if earlier.category != data.category or earlier.status not in OPEN_STATUSES:
        return False
    if data.order_type == "removal_order" and (
        earlier.order_type != data.order_type
        or earlier.issuing_authority != data.issuing_authority
        or earlier.legal_basis != data.legal_basis
    ):
        return False
    if caller.role == "flagger":
        return earlier.flagger_org_id == caller.org_id
    if reporter_refs:
        # The same user (under any key of the ring) of the same platform principal: another
        # principal's users are others.
        return earlier.reporter_ref in reporter_refs and earlier.submitted_by_id == caller.id
    return False


def notify_received(notifier: Notifier, session: Session, received: list[Report]) -> None:
    """Tell the notifier of reports just received, together."""
    notifier.reports_changed(
        session=session,
        changes=[
            ReportChange(
                report_id=report.id,
                org_id=report.flagger_org_id,
                event="report.received",
                submitted_by=report.submitted_by_id,
            )
            for report in received
        ],
    )


def _settle_on_decided_case(session: Session, case: Case, report: Report) -> None:
    # A report on a post that is already down is answered at once with that decision; while
    # the takedown is still on its way it waits in review and is actioned with the others.
    if case.state != CaseState.DECIDED:
        return
    decision = decisions.in_force(session=session, case_id=case.id)
    if decision is None or decision.outcome not in SETTLING_OUTCOMES:
        return
    if not actions.all_delivered(session=session, decision_id=decision.id):
        report.status = ReportStatus.IN_REVIEW
    else:
        report.status = ReportStatus.ACTIONED
        report.decided_at = report.received_at
        report.decision_id = decision.id
