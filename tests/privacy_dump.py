"""The whole database as text, and a search in it for what must never be kept."""

from __future__ import annotations

from sqlalchemy import Engine, MetaData, select


def dump(engine: Engine) -> dict[str, str]:
    """Return every table's rows as one text per table: every column of every row."""
    metadata = MetaData()
    metadata.reflect(engine)
    tables: dict[str, str] = {}
    with engine.connect() as conn:
        for table in metadata.tables.values():
            rows = conn.execute(select(table)).all()
            tables[table.name] = "\n".join("\t".join(_text(value) for value in row) for row in rows)
    return tables


def _text(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def found(tables: dict[str, str], needles: dict[str, str]) -> list[str]:
    """Name each needle found in a table, as ``"what in table"``."""
    return [
        f"{what} in {name}"
        for what, needle in needles.items()
        for name, text in tables.items()
        if needle in text
    ]
