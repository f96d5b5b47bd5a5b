"""``tanggap serve`` hands uvicorn the limits a production server needs, under names it knows."""

from __future__ import annotations

import uvicorn

from tanggap.cli import serve_options


def test_uvicorn_takes_every_serve_option_and_keeps_the_limits() -> None:
    options = serve_options(host="127.0.0.1", port=8000, workers=2, limit_concurrency=300)
    config = uvicorn.Config("tanggap.asgi:app", **options)  # a misspelt option is a TypeError
    assert config.limit_concurrency == 300
    assert config.timeout_keep_alive == 5
    assert config.h11_max_incomplete_event_size == 16 * 1024
    assert config.timeout_graceful_shutdown == 20
    assert config.workers == 2
