"""The console: the queue overview, the next case, the case page and its forms, the leads'
staffing page; the legal register's pages."""

from tanggap.console import case_forms, case_page, legal, queues, staffing
from tanggap.console.session import CONSOLE, ConsoleAccount, ConsoleLogin

routers = (queues.router, case_page.router, case_forms.router, staffing.router, legal.router)

__all__ = ["CONSOLE", "ConsoleAccount", "ConsoleLogin", "routers"]
