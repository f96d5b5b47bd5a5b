"""The ``tanggap`` command as a test runs it: in this process by default (the same entry point,
arguments, environment, exit code and separate stdout and stderr, without a second's start-up
per call), or as a real process where the process itself is what a test checks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from typer.testing import CliRunner

from tanggap.cli import app
from tests.conftest import TEST_SECRET
from tests.logging_state import kept_logging

TANGGAP = str(Path(sys.executable).parent / "tanggap")


def environment_for(database_url: str, env: str = "test", **extra: str) -> dict[str, str]:
    """The process environment of a command against ``database_url``."""
    return {
        **os.environ,
        "TANGGAP_DATABASE_URL": database_url,
        "TANGGAP_SECRET_KEY": TEST_SECRET,
        "TANGGAP_ENV": env,
        **extra,
    }


def tanggap(
    *args: str, database_url: str, env: str = "test", process: bool = False, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run ``tanggap ARGS`` against ``database_url``; ``extra`` are more environment variables."""
    return run(environment_for(database_url, env, **extra), *args, process=process)


def run(
    environment: Mapping[str, str], *args: str, process: bool = False, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``tanggap ARGS`` with exactly ``environment``, in this process unless ``process``."""
    if process:
        return subprocess.run(
            [TANGGAP, *args],
            env=dict(environment),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    changes: dict[str, str | None] = {name: None for name in os.environ if name not in environment}
    changes.update(environment)
    with kept_logging():
        # An unexpected exception is raised here, failing the test, rather than turned into an
        # exit code the way a process would print a traceback.
        result = CliRunner().invoke(
            app, list(args), env=changes, input=stdin, catch_exceptions=False
        )
    return subprocess.CompletedProcess(
        ["tanggap", *args], result.exit_code, result.stdout, result.stderr
    )
