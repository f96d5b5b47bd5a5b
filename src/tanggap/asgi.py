"""The ASGI entry point ``tanggap serve`` runs: settings from the environment."""

from __future__ import annotations

from tanggap import logs
from tanggap.config import get_settings
from tanggap.server import create_app

logs.configure(get_settings().log_level)
app = create_app(get_settings())
