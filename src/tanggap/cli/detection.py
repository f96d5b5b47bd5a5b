"""Commands for detection: hash files, hash banks."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from tanggap.banks import exchange
from tanggap.banks import service as banks
from tanggap.banks.schemas import BankIn
from tanggap.cli.common import CLI_ACTOR, fail, option_error, runtime_for, transaction
from tanggap.detection import scans
from tanggap.detection.models import ScanJob
from tanggap.detectors.hashing import MAX_BYTES, HashError, hash_bytes

bank_app = typer.Typer(help="Hash banks: known violating content, by hash.")
rules_app = typer.Typer(help="Detection rules (YAML files).")


def read_files(paths: list[Path]) -> list[tuple[str, bytes]]:
    """Read every file first, so that one unreadable file stops the command before any write."""
    found = []
    for path in paths:
        try:
            if path.stat().st_size > MAX_BYTES:
                fail(f"FILE {path}: larger than {MAX_BYTES // (1024 * 1024)} MiB", code=2)
            found.append((path.name, path.read_bytes()))
        except OSError as exc:
            fail(f"FILE {path}: {exc.strerror or exc}", code=2)
    return found


def hash_files(files: Annotated[list[Path], typer.Argument(help="Files to hash.")]) -> None:
    """Print one line per file: pdq=<64 hex> quality=<q> md5=<hex> sha256=<hex> FILE."""
    failed = False
    for path in files:
        try:
            data = path.read_bytes()
            typer.echo(hash_bytes(data).line(str(path)))
        except OSError as exc:
            typer.echo(f"error: {path}: {exc.strerror or exc}", err=True)
            failed = True
        except HashError as exc:
            typer.echo(f"error: {path}: {exc}", err=True)
            failed = True
    if failed:
        raise typer.Exit(1)


@bank_app.command("create")
def bank_create(
    name: Annotated[str, typer.Argument(help="The bank's name (lower case, digits, - _ .).")],
    category: Annotated[str, typer.Option(help="The policy category a match falls under.")],
    policy: Annotated[
        str, typer.Option(help="review, auto_remove or auto_geo_restrict.")
    ] = "review",
    countries: Annotated[str | None, typer.Option(help="For auto_geo_restrict: ID,MY…")] = None,
    pdq_threshold: Annotated[int, typer.Option(help="Largest PDQ distance that matches.")] = 31,
) -> None:
    """Create a hash bank."""
    try:
        data = BankIn.model_validate(
            {
                "name": name,
                "category": category,
                "policy": policy,
                "countries": [c.strip() for c in (countries or "").split(",") if c.strip()],
                "pdq_threshold": pdq_threshold,
            }
        )
    except ValidationError as exc:
        option_error(exc)
    with runtime_for() as runtime, transaction(runtime) as session:
        bank = banks.create(session=session, data=data, policy=runtime.policy, actor=CLI_ACTOR)
        typer.echo(f"{bank.id}  {bank.name}  {bank.policy}  {bank.category}")


@bank_app.command("add")
def bank_add(
    name: Annotated[str, typer.Argument(help="The bank.")],
    files: Annotated[list[Path], typer.Argument(help="Files to hash into it.")],
) -> None:
    """Hash files (images also by their 8 rotations and mirrors) into a bank; keep no bytes."""
    contents = read_files(files)
    with runtime_for() as runtime, transaction(runtime) as session:
        bank = banks.get(session=session, name=name)
        entries = banks.entries_of_files(contents)
        added, there = banks.add_entries(
            session=session, bank=bank, entries=entries, actor=CLI_ACTOR
        )
        job = scans.start(session=session, bank_id=bank.id, actor=CLI_ACTOR) if added else None
    typer.echo(f"{name}: {added} hashes added, {there} already there ({len(files)} files)")
    _queued(job, name)


def _queued(job: ScanJob | None, name: str) -> None:
    if job is not None:
        typer.echo(
            f"scan {job.id} queued over {job.total} stored posts: the server runs it, or run "
            f"`tanggap scan --bank {name}` now",
            err=True,
        )


@bank_app.command("import")
def bank_import(
    name: Annotated[str, typer.Argument(help="The bank.")],
    file: Annotated[Path, typer.Argument(help="A threatexchange hash list (lines or CSV).")],
    format: Annotated[
        str, typer.Option("--format", help="te (`<type> <signal>` lines), te-csv, or auto.")
    ] = "auto",
    skip_unsupported: Annotated[
        bool, typer.Option(help="Skip signal types Tanggap cannot match instead of refusing.")
    ] = False,
) -> None:
    """Import a hash list in threatexchange's formats; a malformed line adds nothing."""
    fmt = exchange.FORMATS.get(format)
    if fmt is None:
        fail(f"--format: {format!r} is not one of auto, te, te-csv", code=2)
    try:
        content = file.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"FILE {file}: {exc.strerror or exc}", code=2)
    except UnicodeDecodeError as exc:
        fail(f"FILE {file}: not UTF-8 text ({exc.reason})", code=2)
    with runtime_for() as runtime, transaction(runtime) as session:
        bank = banks.get(session=session, name=name)
        done = banks.import_list(
            session=session,
            bank=bank,
            content=content,
            fmt=fmt,
            skip_unsupported=skip_unsupported,
            actor=CLI_ACTOR,
        )
        job = scans.start(session=session, bank_id=bank.id, actor=CLI_ACTOR) if done.added else None
    skipped = ", ".join(f"{n} {kind}" for kind, n in sorted(done.unsupported.items()))
    typer.echo(
        f"{name}: {done.added} added, {done.already_there} already there"
        + (f"; skipped {skipped}" if skipped else "")
        + (f"; {done.not_positive} rows not POSITIVE_CLASS" if done.not_positive else "")
    )
    _queued(job, name)


@bank_app.command("export")
def bank_export(
    name: Annotated[str, typer.Argument(help="The bank.")],
    format: Annotated[str, typer.Option("--format", help="te (lines) or te-csv.")] = "te",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Export a bank in threatexchange's formats (stdout, or --output FILE)."""
    fmt = exchange.EXPORT_FORMATS.get(format)
    if fmt is None:
        fail(f"--format: {format!r} is not one of te, te-csv", code=2)
    with runtime_for() as runtime, transaction(runtime) as session:
        bank = banks.get(session=session, name=name)
        chunks = exchange.export(
            banks.entry_values(session=session, bank=bank),
            fmt=fmt,
            collab=bank.name,
            tags=bank.category,
        )
        try:
            if output is None:
                for chunk in chunks:
                    sys.stdout.write(chunk)
            else:
                with output.open("w", encoding="utf-8") as sink:
                    sink.writelines(chunks)
        except BrokenPipeError:  # the reader stopped early (`| head`): not an error
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep Python's exit flush quiet
        except OSError as exc:
            fail(f"--output {output}: {exc.strerror or exc}", code=2)


@bank_app.command("list")
def bank_list() -> None:
    """List the banks: name, policy, category, entries."""
    with runtime_for() as runtime, transaction(runtime) as session:
        for bank, entries in banks.list_banks(session=session):
            typer.echo(f"{bank.name:<24} {bank.policy:<18} {bank.category:<20} {entries}")


@rules_app.command("check")
def rules_check(files: Annotated[list[Path], typer.Argument(help="Rule files to check.")]) -> None:
    """Check rule files as the server would load them: syntax, fields, regexes, categories."""
    from tanggap.config import Settings
    from tanggap.detection.rules_live import check_categories
    from tanggap.detectors.rules import RuleError, RuleSet, load_file
    from tanggap.policy.service import PolicyError, load_policy

    try:
        policy = load_policy(Settings().policy_file)
    except PolicyError as exc:
        fail(str(exc))
    rules = []
    try:
        for path in files:
            found = load_file(path)
            rules.extend(found)
            typer.echo(f"{path}: {len(found)} rules")
        check_categories(RuleSet.compile(rules, [str(p) for p in files]), policy)
    except RuleError as exc:
        fail(str(exc), code=2)
    typer.echo(f"ok: {len(rules)} rules", err=True)


@rules_app.command("reload")
def rules_reload() -> None:
    """Load the rule files and record their version, so that every process reloads them
    within seconds; a broken file is refused and the rules in force stay everywhere. New or
    changed rules queue a scan of the stored posts."""
    with runtime_for() as runtime:  # a broken file stops here, before anything is recorded
        outcome = runtime.rules.reload()
        if outcome.error:
            fail(f"rules not reloaded: {outcome.error}", code=2)
        with transaction(runtime) as session:
            job = scans.sync_rules(
                session=session, rules=runtime.rules.current.rules, actor=CLI_ACTOR
            )
        version = runtime.rules.version
        counter = version.counter if version is not None else 0
        typer.echo(f"rules version {counter}: {outcome.rules} rules from {outcome.files} files")
        if job is not None:
            typer.echo(f"scan {job.id} queued: {job.total} stored posts")


def scan(
    bank: Annotated[
        str | None, typer.Option(help="The bank to match the stored posts against.")
    ] = None,
    rules: Annotated[
        bool, typer.Option("--rules", help="Match the stored posts against new or changed rules.")
    ] = False,
) -> None:
    """Match every stored post against a bank (or the rules added or changed since the last
    scan) now, with a progress bar; resumes a scan that was interrupted."""
    from tanggap.detection import scans as scan_jobs
    from tanggap.screening.scans import run_batch

    if (bank is None) == (not rules):
        fail("give either --bank NAME or --rules", code=2)
    with runtime_for() as runtime:
        with transaction(runtime) as session:
            if bank is not None:
                job = scan_jobs.start(
                    session=session,
                    bank_id=banks.get(session=session, name=bank).id,
                    actor=CLI_ACTOR,
                )
            else:
                rules_job = scan_jobs.sync_rules(
                    session=session, rules=runtime.rules.current.rules, actor=CLI_ACTOR
                ) or scan_jobs.rules_under_way(session=session)
                if rules_job is None:
                    typer.echo("no new or changed rules since the last scan")
                    return
                job = rules_job
            scan_id, total, done = job.id, job.total, job.scanned
        label = f"scan {bank}" if bank else "scan rules"
        matched = 0
        with typer.progressbar(length=max(total, 1), label=label, file=sys.stderr) as bar:
            bar.update(done)
            while True:
                batch = run_batch(
                    factory=runtime.factory, pipeline=runtime.pipeline, scan_id=scan_id
                )
                matched += batch.matched
                bar.update(batch.scanned)
                runtime.deliver_now(batch.actions, reason=f"scan {scan_id}")
                if batch.finished:
                    break
    typer.echo(f"scan {scan_id}: {total} posts, {matched} new matches")
