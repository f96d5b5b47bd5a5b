"""Every string the portal, the console and the transparency report show has its Indonesian
translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tanggap.web import i18n

ROOT = Path(__file__).parents[2]
METHODS = [
    ("src/tanggap/portal/**.py", "python"),
    ("src/tanggap/console/**.py", "python"),
    ("src/tanggap/web/accounts.py", "python"),
    ("src/tanggap/web/templates/portal/**.html", "jinja2"),
    ("src/tanggap/web/templates/console/**.html", "jinja2"),
    ("src/tanggap/web/templates/account/**.html", "jinja2"),
    ("src/tanggap/web/transparency_page.py", "python"),
    ("src/tanggap/web/templates/transparency.html", "jinja2"),
]
JINJA = {"extensions": "jinja2.ext.i18n"}


def extracted() -> set[str]:
    found: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT),
        method_map=METHODS,
        options_map={pattern: JINJA for pattern, method in METHODS if method == "jinja2"},
        keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_indonesian_catalogue_covers_every_portal_and_console_string() -> None:
    po = i18n.LOCALES / "id" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as source:
        catalog = read_po(source, locale="id")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (m.string if isinstance(m.string, str) else all(m.string))
    }
    wanted = extracted()
    assert len(wanted) > 80
    assert wanted - translated == set()


def test_translations_follow_the_request_language() -> None:
    i18n.use("id")
    assert i18n.gettext("Reports") == "Laporan"
    assert i18n.ngettext("%(num)s report", "%(num)s reports", 3) == "%(num)s laporan"
    i18n.use("en")
    assert i18n.gettext("Reports") == "Reports"
    assert i18n.use("fr") == "en"
