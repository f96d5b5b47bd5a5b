"""The review console: the queue overview, the next case, the case page and its forms."""

from tanggap.console import case_forms, case_page, queues
from tanggap.console.session import CONSOLE, ConsoleLogin

routers = (queues.router, case_page.router, case_forms.router)

__all__ = ["CONSOLE", "ConsoleLogin", "routers"]
