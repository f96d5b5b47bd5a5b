"""What the end-to-end tests share: the settings of a serving process, the process itself."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import TEST_SECRET
from tests.serving import serving


@pytest.fixture
def environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "TANGGAP_DATABASE_URL": database_url,
        "TANGGAP_SECRET_KEY": TEST_SECRET,
        "TANGGAP_ENV": "test",
    }


@pytest.fixture
def server(environment: dict[str, str]) -> Iterator[str]:
    """``tanggap serve`` in its own process; yields its base URL once it says it is up."""
    with serving(environment) as served:
        yield served.url
