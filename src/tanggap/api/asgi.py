"""The ASGI entry point ``tanggap serve`` runs: settings from the environment."""

from __future__ import annotations

from tanggap import logs
from tanggap.api.app import create_app
from tanggap.config import get_settings

logs.configure(get_settings().log_level)
app = create_app(get_settings())
