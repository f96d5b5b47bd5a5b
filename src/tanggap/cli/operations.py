"""Commands for operators: the audit chain and the action outbox."""

from __future__ import annotations

import sys
import uuid
from typing import Annotated

import typer

from tanggap.cli.common import CLI_ACTOR, fail, runtime_for, transaction

audit_app = typer.Typer(help="The audit trail.")
actions_app = typer.Typer(help="The action outbox.")


@actions_app.command("list")
def actions_list(
    state: Annotated[str | None, typer.Option(help="pending, delivered or failed.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """List actions, newest first: id, kind, state, attempts, last error."""
    from tanggap.actions import service as actions

    if state not in (None, "pending", "delivered", "failed"):
        fail(f"--state: {state!r} is not pending, delivered or failed", code=2)
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
def audit_verify() -> None:
    """Check the whole hash chain; exit 1 naming the first bad event."""
    from tanggap.audit import service as audit

    with runtime_for() as runtime, runtime.factory() as session:
        result = audit.verify(session=session)
    if result.problem is None:
        typer.echo(f"audit chain intact: {result.checked} events")
        return
    typer.echo(
        f"audit chain BROKEN at event {result.problem.seq}: {result.problem.reason} "
        f"({result.checked} events checked before it)",
        err=True,
    )
    sys.exit(1)
