"""HTTP: hash banks (admins create and fill them; staff read them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from tanggap.auth.schemas import Caller
from tanggap.banks import exchange, service
from tanggap.banks.models import Bank
from tanggap.banks.schemas import BankIn, BankOut, EntriesAdded, EntriesIn, Imported, ScanOut
from tanggap.detection import scans
from tanggap.detection.models import ScanJob
from tanggap.errors import Conflict, InvalidInput
from tanggap.http.deps import RuntimeDep, SessionDep, Staff, require
from tanggap.http.openapi import answers
from tanggap.runtime import Runtime

router = APIRouter(prefix="/v1/banks", tags=["detection"])
scans_router = APIRouter(prefix="/v1/scans", tags=["detection"])
Admin = Annotated[Caller, Depends(require("admin"))]


def bank_out(bank: Bank, entries: int) -> BankOut:
    """Shape a bank."""
    return BankOut(
        bank_id=bank.id,
        name=bank.name,
        category=bank.category,
        policy=bank.policy,
        countries=bank.countries,
        pdq_threshold=bank.pdq_threshold,
        entries=entries,
        created_at=bank.created_at,
    )


@router.post("", response_model=BankOut, status_code=201, responses=answers(Conflict))
def create_bank(data: BankIn, session: SessionDep, caller: Admin, runtime: RuntimeDep) -> BankOut:
    """Create a bank with its policy (review, auto_remove, auto_geo_restrict) and PDQ threshold."""
    bank = service.create(
        session=session, data=data, policy=runtime.policy, actor=caller.audit_actor
    )
    session.commit()
    return bank_out(bank, 0)


@router.get("", response_model=list[BankOut])
def list_banks(session: SessionDep, caller: Staff) -> list[BankOut]:
    """List the banks."""
    return [bank_out(bank, n) for bank, n in service.list_banks(session=session)]


@router.post("/{name}/entries", response_model=EntriesAdded)
def add_entries(name: str, data: EntriesIn, session: SessionDep, caller: Admin) -> EntriesAdded:
    """Add hashes (pdq, md5, sha256, minhash) and texts (kept as MinHash signatures only); ones
    already in the bank are counted, not added again."""
    bank = service.get(session=session, name=name)
    entries = data.entries + service.entries_of_texts(data.texts)
    added, there = service.add_entries(
        session=session, bank=bank, entries=entries, actor=caller.audit_actor
    )
    job = scans.start(session=session, bank_id=bank.id, actor=caller.audit_actor) if added else None
    session.commit()
    return EntriesAdded(added=added, already_there=there, scan_id=job.id if job else None)


MAX_IMPORT_BYTES = 200 * 1024 * 1024


@router.post(
    "/{name}/import",
    response_model=Imported,
    responses=answers(413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": {"type": "string"}}, "text/csv": {}},
        }
    },
)
async def import_entries(
    name: str,
    request: Request,
    caller: Admin,
    runtime: RuntimeDep,
    format: Annotated[exchange.Format, Query(description="te, te-csv, or auto")] = "auto",
    skip_unsupported: Annotated[
        bool, Query(description="Skip signal types Tanggap cannot match instead of refusing")
    ] = False,
) -> Imported:
    """Import a hash list in threatexchange's formats (the body is the file); a malformed line
    adds nothing. Queues a scan of the stored posts when something was added."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_IMPORT_BYTES:
        raise InvalidInput("the file is larger than 200 MiB", field="body")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_IMPORT_BYTES:
            raise InvalidInput("the file is larger than 200 MiB", field="body")
        chunks.append(chunk)
    body = b"".join(chunks)
    try:
        content = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the file is not UTF-8 text: {exc.reason}", field="body") from exc
    return await run_in_threadpool(
        _import, runtime, name, content, format, skip_unsupported, caller.audit_actor
    )


def _import(
    runtime: Runtime, name: str, content: str, fmt: exchange.Format, skip: bool, actor: str
) -> Imported:
    with runtime.factory() as session, session.begin():
        bank = service.get(session=session, name=name)
        done = service.import_list(
            session=session, bank=bank, content=content, fmt=fmt, skip_unsupported=skip, actor=actor
        )
        job = scans.start(session=session, bank_id=bank.id, actor=actor) if done.added else None
        return Imported(
            added=done.added,
            already_there=done.already_there,
            unsupported=done.unsupported,
            not_positive=done.not_positive,
            scan_id=job.id if job else None,
        )


@router.get("/{name}/export", response_class=StreamingResponse)
def export_entries(
    name: str,
    caller: Admin,
    runtime: RuntimeDep,
    format: Annotated[Literal["te", "te-csv"], Query(description="te or te-csv")] = "te",
) -> StreamingResponse:
    """Export a bank in threatexchange's formats, for threatexchange, HMA or another Tanggap."""
    with runtime.factory() as session:
        bank = service.get(session=session, name=name)
        bank_name, category = bank.name, bank.category

    def chunks() -> Iterator[str]:
        with runtime.factory() as session:
            found = service.get(session=session, name=bank_name)
            yield from exchange.export(
                service.entry_values(session=session, bank=found),
                fmt=format,
                collab=bank_name,
                tags=category,
            )

    suffix = "csv" if format == "te-csv" else "txt"
    return StreamingResponse(
        chunks(),
        media_type="text/csv" if format == "te-csv" else "text/plain",
        headers={"Content-Disposition": f'attachment; filename="{bank_name}.{suffix}"'},
    )


@router.post("/{name}/scan", response_model=ScanOut, status_code=202)
def scan_bank(name: str, session: SessionDep, caller: Admin) -> ScanOut:
    """Match every stored post against the bank, in the background (the scan under way, if any)."""
    bank = service.get(session=session, name=name)
    job = scans.start(session=session, bank_id=bank.id, actor=caller.audit_actor)
    session.commit()
    return scan_out(job, bank.name)


@scans_router.get("/{scan_id}", response_model=ScanOut)
def get_scan(scan_id: uuid.UUID, session: SessionDep, caller: Staff) -> ScanOut:
    """Where a scan stands: posts scanned of the total, matches, state."""
    job = scans.get(session=session, scan_id=scan_id)
    bank = service.get_by_id(session=session, bank_id=job.bank_id) if job.bank_id else None
    return scan_out(job, bank.name if bank else None)


def scan_out(job: ScanJob, bank: str | None) -> ScanOut:
    """Shape a scan."""
    return ScanOut(
        scan_id=job.id,
        bank=bank,
        rules=list(job.rule_ids),
        state=job.state,
        total=job.total,
        scanned=job.scanned,
        matched=job.matched,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )
