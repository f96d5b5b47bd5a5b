"""The review console: the queue overview, the next case, the case page and its forms, the
leads' staffing page."""

from tanggap.console import case_forms, case_page, queues, staffing
from tanggap.console.session import CONSOLE, ConsoleLogin

routers = (queues.router, case_page.router, case_forms.router, staffing.router)

__all__ = ["CONSOLE", "ConsoleLogin", "routers"]
