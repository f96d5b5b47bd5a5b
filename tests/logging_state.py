"""Logging as a fresh process has it, for a test that runs Tanggap's own logging set-up in the
test process (a command, ``logs.configure``), and the tests' logging put back afterwards."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog


@contextmanager
def kept_logging() -> Iterator[None]:
    """Give the command the logging a fresh process has (no handlers on the root logger, so its
    set-up installs its own on the captured stderr), then put back what the tests had: handlers
    with their filters, every logger's level and state, structlog's configuration."""
    root = logging.getLogger()
    handlers = {handler: list(handler.filters) for handler in root.handlers}
    loggers = [root] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    states = [(logger, logger.level, logger.disabled, logger.propagate) for logger in loggers]
    config = structlog.get_config()
    root.handlers[:] = []
    try:
        yield
    finally:
        root.handlers[:] = list(handlers)
        for handler, filters in handlers.items():
            handler.filters[:] = filters
        for logger, level, disabled, propagate in states:
            logger.setLevel(level)
            logger.disabled, logger.propagate = disabled, propagate
        structlog.configure(**config)
