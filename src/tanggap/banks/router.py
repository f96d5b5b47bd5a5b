"""HTTP: hash banks (admins create and fill them; staff read them)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from tanggap.api.deps import RuntimeDep, SessionDep, Staff, require
from tanggap.auth.schemas import Caller
from tanggap.banks import service
from tanggap.banks.models import Bank
from tanggap.banks.schemas import BankIn, BankOut, EntriesAdded, EntriesIn, ScanOut
from tanggap.detection import scans
from tanggap.detection.models import ScanJob

router = APIRouter(prefix="/v1/banks", tags=["detection"])
scans_router = APIRouter(prefix="/v1/scans", tags=["detection"])
Admin = Annotated[Caller, Depends(require("admin"))]


def bank_out(bank: Bank, entries: int) -> BankOut:
    """Shape a bank."""
    return BankOut(
        bank_id=bank.id,
        name=bank.name,
        category=bank.category,
        policy=bank.policy,  # type: ignore[arg-type]
        countries=bank.countries,
        pdq_threshold=bank.pdq_threshold,
        entries=entries,
        created_at=bank.created_at,
    )


@router.post("", response_model=BankOut, status_code=201)
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
    """Add hashes (pdq, md5, sha256); ones already in the bank are counted, not added again."""
    bank = service.get(session=session, name=name)
    added, there = service.add_entries(
        session=session, bank=bank, entries=data.entries, actor=caller.audit_actor
    )
    job = scans.start(session=session, bank=bank, actor=caller.audit_actor) if added else None
    session.commit()
    return EntriesAdded(added=added, already_there=there, scan_id=job.id if job else None)


@router.post("/{name}/scan", response_model=ScanOut, status_code=202)
def scan_bank(name: str, session: SessionDep, caller: Admin) -> ScanOut:
    """Match every stored post against the bank, in the background (the scan under way, if any)."""
    bank = service.get(session=session, name=name)
    job = scans.start(session=session, bank=bank, actor=caller.audit_actor)
    session.commit()
    return scan_out(job, bank.name)


@scans_router.get("/{scan_id}", response_model=ScanOut)
def get_scan(scan_id: uuid.UUID, session: SessionDep, caller: Staff) -> ScanOut:
    """Where a scan stands: posts scanned of the total, matches, state."""
    job = scans.get(session=session, scan_id=scan_id)
    bank = session.get(Bank, job.bank_id)
    return scan_out(job, bank.name if bank else "")


def scan_out(job: ScanJob, bank: str) -> ScanOut:
    """Shape a scan."""
    return ScanOut(
        scan_id=job.id,
        bank=bank,
        state=job.state,  # type: ignore[arg-type]
        total=job.total,
        scanned=job.scanned,
        matched=job.matched,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )
