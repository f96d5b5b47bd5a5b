"""Benchmark: the reviewer's side — claim throughput and "next case" to an interactive page.

Usage: PYTHONPATH=. .venv/bin/python bench/review.py [--postgres] [--reviewers 20] [--rounds 3]

Loads the demo (50 posts) plus 200 synthetic reported posts, triages them, and serves Tanggap in
its own process (`tanggap serve`), so that the clients here do not share its interpreter.

1. Claims: 20 reviewers drain the queue in parallel with POST /v1/cases/next; the baseline, in the
   same run, is one reviewer draining it alone. Every round gives all cases back afterwards.
2. Page: in Debian's Chromium, a reviewer clicks "Take the next case" and waits until the decision
   form is ready (the page's load event, console.js set up); the baseline is loading the queue
   overview. Each sample gives its case back.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import httpx
from bench.common import serve

from tanggap import logs
from tanggap.auth import service as auth
from tanggap.auth.models import Principal
from tanggap.auth.passwords import hash_password
from tanggap.config import Settings
from tanggap.db.migrate import upgrade
from tanggap.demo import service as demo
from tanggap.review import team
from tanggap.reviewers.schemas import ReviewerIn
from tanggap.runtime import Runtime, build_runtime
from tests.factories import bearer, run_triage, seed_cases

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
PASSWORD = "bench-password-0123456789"
CHROMIUM = os.environ.get("TANGGAP_TEST_CHROMIUM", "/usr/bin/chromium")


def database(postgres: bool, root: Path) -> tuple[str, object | None]:
    if not postgres:
        return f"sqlite:///{root}/bench.db", None
    import pgserver

    server = pgserver.get_server(root / "pg", cleanup_mode="stop")
    return server.get_uri(), server


def seed(runtime: Runtime, reviewer_count: int) -> list[str]:
    """Demo + 200 reported posts, triaged; return one token per reviewer (and make a web login)."""
    with runtime.factory() as session, session.begin():
        demo.load(
            session=session,
            secret_key=SECRET,
            policy=runtime.policy,
            inspector=runtime.pipeline,
            notifier=runtime.notifier,
        )
    seed_cases(runtime, 200, channel="antrianbench")
    run_triage(runtime)
    tokens = []
    with runtime.factory() as session, session.begin():
        for n in range(reviewer_count + 1):
            created = team.add_reviewer(
                session=session,
                data=ReviewerIn(email=f"r{n}@bench.example", languages=["id", "ms", "en"]),
                policy=runtime.policy,
            )
            principal: Principal = created.principal
            principal.password_hash = hash_password(PASSWORD)
            principal.must_change_password = False
            tokens.append(auth.issue_token(session=session, principal=principal).token)
    return tokens


def drain(base: str, tokens: list[str]) -> tuple[int, float, dict[str, list[str]]]:
    """Reviewers take cases until none is left; return claims, seconds, and who took what."""
    start = Barrier(len(tokens))

    def one(token: str) -> list[str]:
        taken = []
        with httpx.Client(base_url=base, timeout=60) as client:
            start.wait()
            while True:
                answer = client.post("/v1/cases/next", headers=bearer(token))
                if answer.status_code == 204:
                    return taken
                answer.raise_for_status()
                taken.append(answer.json()["case_id"])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        results = list(pool.map(one, tokens))
    elapsed = time.perf_counter() - started
    claimed = {token: cases for token, cases in zip(tokens, results, strict=True)}
    everything = [c for cases in results for c in cases]
    assert len(everything) == len(set(everything)), "a case was handed out twice"
    return len(everything), elapsed, claimed


def give_back(base: str, claimed: dict[str, list[str]]) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        for token, cases in claimed.items():
            for case_id in cases:
                client.post(
                    f"/v1/cases/{case_id}/release", headers=bearer(token)
                ).raise_for_status()


def page_samples(base: str, samples: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    overview, next_page = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/console/login")
        page.fill("input[name=email]", "r0@bench.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_selector("#take-next")
        for _ in range(samples):
            started = time.perf_counter()
            page.goto(f"{base}/console/queues", wait_until="load")
            page.wait_for_selector("#take-next")
            overview.append(time.perf_counter() - started)
            started = time.perf_counter()
            with page.expect_navigation(wait_until="load"):
                page.click("#take-next")
            page.wait_for_selector("#decision-form")
            page.wait_for_function("document.readyState === 'complete'")
            next_page.append(time.perf_counter() - started)
            with page.expect_navigation():
                page.click("text=Kembalikan")
        browser.close()
    return overview, next_page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--page-samples", type=int, default=20)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    args = parser.parse_args()
    logs.configure("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        url, server = database(args.postgres, Path(tmp))
        upgrade(url)
        runtime = build_runtime(Settings(env="test", database_url=url, secret_key=SECRET))
        tokens = seed(runtime, args.reviewers)
        runtime.close()
        process = serve(url, args.port, args.workers, SECRET)
        base = f"http://127.0.0.1:{args.port}"
        try:
            solo, crowd = [], []
            for _ in range(args.rounds):
                count, seconds, claimed = drain(base, tokens[1:2])
                solo.append(count / seconds)
                give_back(base, claimed)
                count, seconds, claimed = drain(base, tokens[1:])
                crowd.append(count / seconds)
                give_back(base, claimed)
            cases = count
            overview, next_page = page_samples(base, args.page_samples)
        finally:
            process.terminate()
            process.wait(timeout=30)
            if server is not None:
                server.cleanup()  # type: ignore[attr-defined]

    kind = "postgresql" if args.postgres else "sqlite"
    print(
        f"database: {kind}; server workers: {args.workers}; {cases} cases in the queue; "
        f"{args.rounds} rounds"
    )
    rounds = ", ".join(f"{x:,.0f}" for x in solo)
    print(f"claims, 1 reviewer:  median {statistics.median(solo):,.0f}/s ({rounds})")
    print(
        f"claims, {args.reviewers} reviewers: median {statistics.median(crowd):,.0f}/s "
        f"({', '.join(f'{x:,.0f}' for x in crowd)})"
    )
    ratio = statistics.median(crowd) / statistics.median(solo)
    print(f"ratio {args.reviewers} reviewers / 1: {ratio:.2f}")
    o = statistics.median(overview) * 1000
    n = statistics.median(next_page) * 1000
    p95 = statistics.quantiles(next_page, n=20)[-1] * 1000
    print(f"queue overview load: median {o:.0f} ms")
    print(f"next case -> decision page interactive: median {n:.0f} ms, p95 {p95:.0f} ms")
    print(f"ratio next-case page / overview: {n / o:.2f}")


if __name__ == "__main__":
    main()
