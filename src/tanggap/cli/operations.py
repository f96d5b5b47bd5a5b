"""Commands for operators: the audit chain, the action outbox, retention."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tanggap.cli.common import (
    CLI_ACTOR,
    checkpoint_key,
    fail,
    load_settings,
    runtime_for,
    transaction,
)
from tanggap.db.base import utcnow

if TYPE_CHECKING:
    from tanggap.audit.export import Exported

audit_app = typer.Typer(help="The audit trail.")
actions_app = typer.Typer(help="The action outbox.")
retention_app = typer.Typer(help="Retention: purging each kind of data at its age.")


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what is past its age; purge nothing.")
    ] = False,
) -> None:
    """Purge every kind of data past its retention once, and print the count of each kind."""
    from tanggap.retention.service import purge_round

    with runtime_for() as runtime:
        counts = purge_round(
            factory=runtime.factory, retention=runtime.policy.retention, dry_run=dry_run
        )
    verb = "would purge" if dry_run else "purged"
    for kind, count in counts.items():
        typer.echo(f"{kind}\t{count}")
    typer.echo(f"{verb} {sum(counts.values())} row(s)", err=True)


@actions_app.command("list")
def actions_list(
    state: Annotated[
        str | None, typer.Option(help="pending, delivered, failed or cancelled.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """List actions, newest first: id, kind, state, attempts, last error."""
    from tanggap.actions import service as actions

    if state not in (None, "pending", "delivered", "failed", "cancelled"):
        fail(f"--state: {state!r} is not pending, delivered, failed or cancelled", code=2)
    with runtime_for() as runtime, runtime.factory() as session:
        for action in actions.list_actions(session=session, state=state, limit=limit):
            error = (action.last_error or "").replace("\n", " ")[:80]
            typer.echo(
                f"{action.id}  {action.kind:<18} {action.state:<9} {action.attempts:>3}  {error}"
            )


@actions_app.command("retry")
def actions_retry(
    action_ids: Annotated[list[str], typer.Argument(help="Failed action ids.")],
) -> None:
    """Put failed actions back in the outbox; the action job delivers them again."""
    from tanggap.actions import service as actions

    try:
        ids = [uuid.UUID(value) for value in action_ids]
    except ValueError:
        fail("ACTION_IDS: every id must be a UUID", code=2)
    with runtime_for() as runtime, transaction(runtime) as session:
        for action_id in ids:
            actions.requeue(session=session, action_id=action_id, actor=CLI_ACTOR)
    typer.echo(f"requeued {len(ids)} action(s)", err=True)


@audit_app.command("verify")
def audit_verify(
    key: Annotated[
        str | None,
        typer.Option(help="The public key to check checkpoints with (as `audit key` prints it)."),
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(help="An earlier export: the database must still hold the same events."),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(help="Verify this export alone, with no database (needs --key)."),
    ] = None,
) -> None:
    """Check the hash chain and its signed checkpoints; exit 1 naming the first bad event."""
    from tanggap.audit import service as audit

    public_key = _public_key(key)
    if file is not None:
        _verify_file(file, public_key)
        return
    copy = _read_export(against) if against is not None else None
    with runtime_for() as runtime, runtime.factory() as session:
        result = audit.verify(session=session, public_key=public_key, against=copy)
    if result.problem is not None:
        typer.echo(
            f"audit chain BROKEN at event {result.problem.seq}: {result.problem.reason} "
            f"({result.checked} events checked before it)",
            err=True,
        )
        sys.exit(1)
    typer.echo(
        f"audit chain intact: {result.checked} events sealed, {result.checkpoints} signed "
        f"checkpoints{_signed_by(public_key)}"
    )
    if result.purged:
        typer.echo(f"{result.purged} events purged of their free text (digests checked)")
    if result.pending:
        age = (utcnow() - result.oldest_pending).total_seconds() if result.oldest_pending else 0
        typer.echo(f"{result.pending} events pending (not sealed yet; oldest {age:.1f} s ago)")
    if copy is not None:
        typer.echo(f"matches the export of {copy.exported_at} ({len(copy.events)} events)")


def _signed_by(public_key: str | None) -> str:
    from tanggap.audit.signing import key_id

    if public_key is None:
        return " (signatures checked with the key stored beside them: pass --key to check them "
        "with the key you trust)"
    return f" (signed by key {key_id(public_key)})"


def _public_key(text: str | None) -> str | None:
    from tanggap.audit.signing import CheckpointKeyError, parse_public_key

    if text is None:
        return None
    try:
        return parse_public_key(text)
    except CheckpointKeyError as exc:
        fail(f"--key: {exc}", code=2)


def _read_export(path: Path) -> Exported:
    from tanggap.audit.export import ExportError, read_export

    try:
        with path.open(encoding="utf-8") as lines:
            return read_export(lines)
    except OSError as exc:
        fail(f"{path}: {exc.strerror}", code=2)
    except UnicodeDecodeError:
        fail(f"{path}: not UTF-8 text", code=2)
    except ExportError as exc:
        fail(f"{path}: {exc}", code=2)


def _verify_file(path: Path, public_key: str | None) -> None:
    from tanggap.audit.export import verify_export

    if public_key is None:
        fail("--file needs --key: the public key to check the checkpoints with", code=2)
    report = verify_export(_read_export(path), public_key=public_key)
    if report.problem is not None:
        typer.echo(
            f"export BROKEN at event {report.problem.seq}: {report.problem.reason}", err=True
        )
        sys.exit(1)
    typer.echo(
        f"export intact: {report.events} events, {report.checkpoints} checkpoints signed by the key"
    )
    if report.purged:
        typer.echo(f"{report.purged} events purged of their free text (digests checked)")


@audit_app.command("key")
def audit_key() -> None:
    """Print the public key that checks the checkpoints (64 hex digits): publish it."""
    from tanggap.audit.signing import key_id, public_hex

    settings = load_settings()
    public = public_hex(checkpoint_key(settings))
    typer.echo(public)
    typer.echo(f"key id {key_id(public)}", err=True)


@audit_app.command("export")
def audit_export(
    since: Annotated[
        int, typer.Option(min=0, help="Only the events sealed after this sequence number.")
    ] = 0,
) -> None:
    """Write the sealed events and signed checkpoints as JSON lines (to keep, or to hand to an
    auditor with the public key)."""
    from tanggap.audit import service as audit

    with runtime_for() as runtime, runtime.factory() as session:
        for line in audit.export_lines(session=session, since=since):
            typer.echo(line)


@audit_app.command("seal")
def audit_seal() -> None:
    """Chain the events that wait and sign a checkpoint now, as the worker's sealer does."""
    settings = load_settings()
    checkpoint_key(settings)
    with runtime_for(settings) as runtime:
        sealed = runtime.seal_audit()
    typer.echo(f"sealed {sealed} events", err=True)
