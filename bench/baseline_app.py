"""The yardstick for the join storm: one indexed SELECT and one INSERT per request, nothing more.

It reads the same settings and uses the same engine, pool and unit of work as the API
(`app.db.session`), and join_storm runs it under the same uvicorn workers, concurrency and wrk
script, so `joins/s ÷ baseline req/s` measures what the join path adds on top of the least a
write request on this stack can cost. Its two tables are the bench's own (`create_tables`),
not Alembic's.
"""

import logging
import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.errors import NotFound
from app.db.session import build_engine, build_session_factory, unit_of_work

BASELINE_PATH = "/bench/baseline"

TABLES_DDL = (
    "CREATE TABLE IF NOT EXISTS bench_baseline_codes ("
    " id serial PRIMARY KEY, code varchar(8) NOT NULL UNIQUE)",
    "CREATE TABLE IF NOT EXISTS bench_baseline_hits ("
    " id uuid PRIMARY KEY,"
    " code_id integer NOT NULL REFERENCES bench_baseline_codes (id),"
    " user_token_length integer NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now())",
)


def create_tables(engine: Engine, room_code: str) -> None:
    with engine.begin() as connection:
        for statement in TABLES_DDL:
            connection.execute(text(statement))
        connection.execute(
            text("INSERT INTO bench_baseline_codes (code) VALUES (:code) ON CONFLICT DO NOTHING"),
            {"code": room_code},
        )


class BaselineBody(BaseModel):
    room_code: Annotated[str, Field(min_length=1, max_length=32)]


settings = get_settings()
engine = build_engine(settings)
session_factory = build_session_factory(engine)
app = FastAPI(title="join_storm baseline", openapi_url=None)
# The yardstick writes no access line (the API's own is part of what the ratio measures).
# uvicorn sets up its logging before it imports this module, so this holds under it.
logging.getLogger("uvicorn.access").disabled = True


def get_db() -> Iterator[Session]:
    with unit_of_work(session_factory) as db:
        yield db


DbSession = Annotated[Session, Depends(get_db, scope="function")]


@app.post(BASELINE_PATH)
def baseline(
    payload: BaselineBody, request: Request, response: Response, db: DbSession
) -> dict[str, str]:
    code_id = db.scalar(
        text("SELECT id FROM bench_baseline_codes WHERE code = :code"),
        {"code": payload.room_code},
    )
    if code_id is None:
        raise NotFound("No such code.")
    db.execute(
        text(
            "INSERT INTO bench_baseline_hits (id, code_id, user_token_length) "
            "VALUES (:id, :code_id, :length)"
        ),
        {
            "id": uuid.uuid4(),
            "code_id": code_id,
            "length": len(request.headers.get("authorization", "")),
        },
    )
    # join_storm.lua pairs each response with its request through this header, as the API's
    # request middleware echoes it.
    response.headers["X-Request-ID"] = request.headers.get("x-request-id", "")
    return {"status": "ok"}


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
