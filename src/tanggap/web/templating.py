"""The one Jinja environment of the web pages, with translations installed."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from tanggap.web import i18n

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
i18n.install(templates.env)
