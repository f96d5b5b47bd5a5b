"""The least an HTTP endpoint of this stack can do for a report: the floor of
``concurrent_intake.py``.

Served by the same uvicorn as ``tanggap serve``, through FastAPI, with a synchronous endpoint run
in the thread pool as Tanggap's are, and a pooled SQLAlchemy engine on the same PostgreSQL: each
``POST /floor`` reads the JSON body, inserts one row into the scratch table the ceiling fills and
commits. No authentication, no validation beyond JSON, no case, no audit event. Whatever rate this
reaches on a machine is the most that any report intake written on this stack could reach there.

``BENCH_FLOOR_DATABASE_URL`` names the database.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import Body, FastAPI
from sqlalchemy import create_engine, text

engine = create_engine(
    os.environ["BENCH_FLOOR_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
    pool_size=16,
)
app = FastAPI()
INSERT = text("INSERT INTO bench_ceiling (body) VALUES (:body)")


@app.post("/floor", status_code=202)
def floor(body: dict[str, Any] = Body()) -> dict[str, str]:
    with engine.begin() as connection:
        connection.execute(INSERT, {"body": str(body.get("target", ""))})
    return {"status": "received"}
