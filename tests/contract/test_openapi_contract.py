"""The API against its own OpenAPI document: schemathesis, every check, as every kind of caller.

Schemathesis runs in process against the app the fixtures build, on each database, as an admin, a
reviewer, a flagger and the platform. Each caller gets explicit and generated examples on the
operations its role is admitted to, and a few generated examples on the others, which refuse it
before reading anything (their 401/403 and 404 must still be declared). The coverage phase (boundary
values, wrong types, missing fields, other content types) runs once per operation, as the first
caller it admits. Generation is seeded and derandomized: a failure in CI is a failure on a laptop.
Flagger webhooks point wherever the generator says, but nothing sends them: the app runs
without its background jobs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.routing import APIRoute
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events

from tanggap.http.openapi import admitted_roles
from tanggap.runtime import Runtime
from tanggap.server import API_ROUTERS
from tests.factories import Tokens, seed_cases

SEED = 20261202
EXAMPLES_PER_OPERATION = 5
EXAMPLES_WHEN_REFUSED = 3
ROLES = ("admin", "reviewer", "flagger", "platform")
PHASES = ("examples", "coverage", "fuzzing")
REFUSED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]

# Rules the code enforces that one JSON Schema cannot state. Schemathesis reads a refusal of
# schema-valid data as a contract violation; these are the known ones, by operation and check,
# with the rule. Nothing else is tolerated, and never a server error.
POSITIVE = "positive_data_acceptance"
BEYOND_THE_SCHEMA = {
    ("POST /v1/cases/{case_id}/decision", POSITIVE): "a removal needs a ground",
    ("POST /v1/reports", POSITIVE): "only a removal order carries a deadline",
    ("POST /v1/reports/bulk", POSITIVE): "the same, line by line",
    ("POST /v1/banks", POSITIVE): "countries only, and always, with auto_geo_restrict",
    (
        "POST /v1/banks/{name}/entries",
        POSITIVE,
    ): "a value's form follows its kind; texts need words",
    ("POST /v1/banks/{name}/import", POSITIVE): "the file must hold signals",
    ("POST /v1/posts", POSITIVE): "text or media; posted between 2000 and now",
    ("POST /v1/posts/batch", POSITIVE): "the same, post by post",
    ("POST /v1/appeals", POSITIVE): "only a post a decision restricts can be appealed",
    ("GET /v1/flaggers/me/stats", POSITIVE): "since and until lie between 2000 and 2100",
    ("GET /v1/reports", POSITIVE): "since and until lie between 2000 and 2100",
    ("GET /v1/transparency", POSITIVE): "since before until, at most 366 days apart, 2000-2100",
    ("GET /v1/transparency.csv", POSITIVE): "the same",
    ("GET /v1/legal/requests", POSITIVE): "since and until lie between 2000 and 2100, in order",
    (
        "POST /v1/legal/requests",
        POSITIVE,
    ): "the form's fields are read as the console sends them: each required one present, a time "
    "with a zone, links, pseudonyms and documents (PDF or images, by their bytes) of their kinds",
    # The generator reads the e-mail pattern with Python's regular expressions, the server with
    # Rust's (pydantic-core); they differ on a few control characters.
    ("POST /v1/flaggers/{org_id}/members", POSITIVE): "regular-expression dialects",
    ("POST /v1/flaggers", POSITIVE): "regular-expression dialects",
}


@dataclass
class Finding:
    """One failed check on one operation."""

    operation: str
    check: str
    title: str
    request: str
    answer: str


@dataclass
class Run:
    """What one schemathesis run did."""

    cases: int
    seconds: float
    findings: list[Finding]


def admitted(role: str) -> set[tuple[str, str]]:
    """Return the (method, path) of every API operation ``role`` may call."""
    return {
        (method, route.path)
        for router in API_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        and (roles := admitted_roles(route.dependant)) is not None
        and role in roles
        for method in route.methods
    } | {
        (method, route.path)
        for router in API_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and admitted_roles(route.dependant) is None
        for method in route.methods
    }


def run_schemathesis(
    app: FastAPI,
    token: str,
    phases: tuple[str, ...],
    examples: int,
    operations: Callable[[tuple[str, str]], bool],
) -> Run:
    """Run schemathesis over the ``operations`` of ``app``'s OpenAPI document as the holder of
    ``token``, ``examples`` generated per operation."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {token}"},
            "workers": 1,
            "continue-on-failure": True,
            "generation": {
                "max-examples": examples,
                "deterministic": True,
                "database": "none",
                # Every text field refuses NUL (PostgreSQL cannot store it); see validation.Input.
                "allow-x00": False,
            },
            "phases": {
                phase: {"enabled": phase in phases}
                for phase in ("examples", "coverage", "fuzzing", "stateful")
            },
            # A body over the limit is refused too, with 413, before it is read.
            "checks": {"negative_data_rejection": {"expected-statuses": REFUSED}},
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config).include(
        func=lambda ctx: operations((ctx.operation.method.upper(), ctx.operation.path))
    )
    started = time.perf_counter()
    cases = 0
    findings: list[Finding] = []
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            for case_id, checks in event.recorder.checks.items():
                interaction = event.recorder.interactions.get(case_id)
                response = interaction.response if interaction is not None else None
                answer = response.content[:300].decode(errors="replace") if response else ""
                for check in checks:
                    if check.failure_info is not None:
                        findings.append(
                            Finding(
                                event.recorder.label,
                                check.name,
                                check.failure_info.failure.title,
                                check.failure_info.code_sample,
                                answer,
                            )
                        )
        elif isinstance(event, events.NonFatalError):
            findings.append(Finding(event.label, "error", str(event.value), "", ""))
        elif isinstance(event, events.FatalError):
            findings.append(Finding("-", "fatal", str(event.exception), "", ""))
    return Run(cases=cases, seconds=time.perf_counter() - started, findings=findings)


@pytest.mark.parametrize("role", ROLES)
def test_the_api_keeps_its_openapi_contract(
    app: FastAPI, runtime: Runtime, tokens: Tokens, role: str
) -> None:
    seed_cases(runtime, 2)
    token, allowed = getattr(tokens, role), admitted(role)
    # The coverage phase's boundary values run once per operation, as the first caller (in
    # ROLES order) it admits; every admitted caller gets generated bodies; refused ones a few.
    earlier = set().union(*(admitted(r) for r in ROLES[: ROLES.index(role)]))
    runs = [
        run_schemathesis(
            app, token, PHASES, EXAMPLES_PER_OPERATION, lambda op: op in allowed - earlier
        ),
        run_schemathesis(
            app,
            token,
            ("examples", "fuzzing"),
            EXAMPLES_PER_OPERATION,
            lambda op: op in allowed & earlier,
        ),
        run_schemathesis(
            app, token, ("fuzzing",), EXAMPLES_WHEN_REFUSED, lambda op: op not in allowed
        ),
    ]
    cases, seconds = sum(r.cases for r in runs), sum(r.seconds for r in runs)
    print(f"schemathesis as {role}: {cases} cases ({runs[2].cases} refused) in {seconds:.1f} s")
    findings = [finding for run in runs for finding in run.findings]
    unexpected = [f for f in findings if (f.operation, f.check) not in BEYOND_THE_SCHEMA]
    assert cases > 100 and runs[2].cases > 10
    assert not unexpected, "\n".join(
        f"{f.operation} {f.check}: {f.title}\n    {f.request[:300]}\n    => {f.answer}"
        for f in unexpected[:20]
    )
