"""Faults at the edges, from outside: the API under a join storm while its dependencies fail.

The API runs as real processes (uvicorn, 2 workers) on a PostgreSQL cluster and a Redis of
this test's own (`tests.own_servers`), never the shared ones, with the Daily emulator. A
bounded storm of keep-alive clients joins sessions by code the whole time. Then, in turn:
PostgreSQL restarts fast; PostgreSQL stops for 5 s and starts; Redis (the rate limiter's
storage) stops; one worker is killed with SIGKILL. Through each, every answer must be 200, 409
or 503 (503 with `Retry-After` and our error shape), no request may hang past the pool
timeout, no connection may be reset, and joins must answer 200 again within 2 s of the
dependency's return. Afterwards the rows must hold: no session over its seats, no duplicate
place, a place for every join that answered 200, one `participant.seated` event per place.

Killing a worker resets the connections it held: that is the kill, not the API. Only for
that fault a client may see one broken connection, and only right after the kill.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from app.core.config import REPO_ROOT, Settings
from app.core.security import create_access_token, hash_password
from app.models.user import User, UserRole
from tests.e2e.stack import (
    Server,
    _inherited_environment,
    api_command,
    api_environment,
    emulator_command,
    free_port,
)
from tests.own_servers import (
    OwnPostgres,
    OwnRedis,
    postgres_bin,
    start_postgres,
    start_redis,
)

POOL_TIMEOUT_S = 2.0
# A request may wait for the pool, then run: more than this is a hang.
HANG_S = POOL_TIMEOUT_S + 4.0
BACK_WITHIN_S = 2.0
STORM_CLIENTS = 6
SESSIONS = 3
SEATS = 8
STUDENTS = 40
JOIN = "/api/v1/sessions/join-by-code"
ALLOWED = {200, 409, 503}


@dataclass
class Answer:
    phase: str
    student: int
    session: int
    status: int | None  # None: no answer (reset, hang)
    error: str = ""
    code: str = ""
    retry_after: str | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class World:
    postgres: OwnPostgres
    redis: OwnRedis
    api: Server
    api_url: str
    engine: Engine
    room_codes: list[str]
    session_ids: list[str]
    tokens: list[str]


class Storm:
    """STORM_CLIENTS threads, each on one keep-alive connection, joining as fast as answered."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.phase = "warm-up"
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True)
            for n in range(STORM_CLIENTS)
        ]

    def __enter__(self) -> Storm:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(HANG_S + 5)

    def _client(self, number: int) -> None:
        rng = random.Random(number)
        with httpx.Client(base_url=self.world.api_url, timeout=HANG_S) as client:
            while not self._stop.is_set():
                student, session = rng.randrange(STUDENTS), rng.randrange(SESSIONS)
                answer = join(client, self.world, student, session, self.phase)
                with self._lock:
                    self.answers.append(answer)

    def since(self, moment: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.at >= moment]


def join(client: httpx.Client, world: World, student: int, session: int, phase: str) -> Answer:
    try:
        response = client.post(
            JOIN,
            json={"room_code": world.room_codes[session]},
            headers={"Authorization": f"Bearer {world.tokens[student]}"},
        )
    except httpx.TimeoutException as exc:
        return Answer(phase, student, session, None, f"hang: {exc!r}")
    except httpx.TransportError as exc:
        return Answer(phase, student, session, None, f"reset: {exc!r}")
    body = response.json() if response.headers.get("content-type") == "application/json" else {}
    code = body.get("code", "") if isinstance(body, dict) else ""
    return Answer(
        phase, student, session, response.status_code, "", code, response.headers.get("Retry-After")
    )


def _start_api(world_dir: Path, database_url: str, redis_url: str) -> tuple[Server, Server, str]:
    api_port, emulator_port = free_port(), free_port()
    api_url, emulator_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{emulator_port}"
    api_key = secrets.token_hex(24)
    inherited = _inherited_environment()
    metrics_dir = world_dir / "metrics"
    metrics_dir.mkdir()
    emulator = Server(
        "Daily emulator (chaos)",
        emulator_command(emulator_port),
        {**inherited, "DAILY_EMULATOR_API_KEY": api_key},
        world_dir / "emulator.log",
    )
    api_env = {
        **inherited,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        **api_environment(
            environment="test",
            database_url=database_url,
            database_pool_size=4,
            database_max_overflow=0,
            database_pool_timeout_seconds=POOL_TIMEOUT_S,
            secret_key=SECRET_KEY,
            daily_api_key=api_key,
            daily_api_url=f"{emulator_url}/v1",
            daily_webhook_secret="chaos-webhook-secret",
            public_base_url=api_url,
            rate_limit_enabled=True,
            rate_limit_storage_url=redis_url,
            log_level="WARNING",
        ),
    }
    api = Server(
        "API (chaos)",
        [*api_command(api_port), "--workers", "2", "--timeout-keep-alive", "5"],
        api_env,
        world_dir / "api.log",
    )
    emulator.wait_until_ready(f"{emulator_url}/_emulator")
    api.wait_until_ready(f"{api_url}/health/ready")
    return api, emulator, api_url


SECRET_KEY = secrets.token_urlsafe(48)


def _seed(engine: Engine, api_url: str) -> tuple[list[str], list[str], list[str]]:
    """Accounts written straight to the database (one password hash for all: hashing is what
    makes signing up slow), sessions made through the API (they need their Daily rooms)."""
    settings = Settings(_env_file=None, secret_key=SECRET_KEY)  # type: ignore[call-arg]
    hashed = hash_password(secrets.token_urlsafe(12))
    people = [
        User(
            email=f"t-{uuid.uuid4().hex}@example.com",
            full_name="Chaos Teacher",
            hashed_password=hashed,
            role=UserRole.TEACHER,
        )
    ]
    people += [
        User(
            email=f"s{n}-{uuid.uuid4().hex}@example.com",
            full_name=f"Student {n}",
            hashed_password=hashed,
            role=UserRole.STUDENT,
        )
        for n in range(STUDENTS)
    ]
    with Session(engine) as db:
        db.add_all(people)
        db.commit()
        tokens = [
            create_access_token(user_id=p.id, role=p.role.value, settings=settings).token
            for p in people
        ]
    codes, ids = [], []
    with httpx.Client(base_url=api_url, timeout=30) as client:
        for n in range(SESSIONS):
            created = client.post(
                "/api/v1/sessions",
                json={"title": f"Chaos {n}", "max_participants": SEATS},
                headers={"Authorization": f"Bearer {tokens[0]}"},
            )
            assert created.status_code == 201, created.text
            codes.append(created.json()["room_code"])
            ids.append(created.json()["id"])
    return codes, ids, tokens[1:]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world_dir = tmp_path_factory.mktemp("chaos")
    postgres = start_postgres(postgres_bin(), free_port())
    redis_server: OwnRedis | None = None
    servers: list[Server] = []
    engine = create_engine(postgres.url, pool_pre_ping=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=REPO_ROOT,
            env={**_inherited_environment(), "DATABASE_URL": postgres.url},
            check=True,
            capture_output=True,
        )
        redis_server = start_redis(world_dir, free_port())
        api, emulator, api_url = _start_api(world_dir, postgres.url, redis_server.url)
        servers = [api, emulator]
        codes, ids, tokens = _seed(engine, api_url)
        yield World(postgres, redis_server, api, api_url, engine, codes, ids, tokens)
    finally:
        for server in servers:
            server.stop()
        if redis_server is not None:
            redis_server.stop()
        engine.dispose()
        postgres.close()


def _back_within(world: World, limit_s: float) -> float:
    """Seconds until a join answers 200 again, asked on fresh connections."""
    started = time.monotonic()
    with httpx.Client(base_url=world.api_url, timeout=HANG_S) as client:
        while time.monotonic() - started < limit_s + HANG_S:
            # Student 0 in session 0: seated during warm-up, so a join is a 200 rejoin.
            if join(client, world, 0, 0, "probe").status == 200:
                return time.monotonic() - started
            time.sleep(0.05)
    return float("inf")


def _worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [
        int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def _metric(world: World, name: str) -> float:
    text_ = httpx.get(f"{world.api_url}/metrics", timeout=HANG_S).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text_.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


def _is_outage_answer(answer: Answer) -> bool:
    return answer.code == "database_unavailable" and bool(answer.retry_after)


def _check_answers(answers: list[Answer], *, allow_resets_until: float | None = None) -> None:
    bad = []
    for a in answers:
        if a.status is None:
            if allow_resets_until is None or a.at > allow_resets_until or "hang" in a.error:
                bad.append(a)
        elif a.status not in ALLOWED or (a.status == 503 and not _is_outage_answer(a)):
            bad.append(a)
    assert not bad, f"{len(bad)} bad answers, e.g. {bad[:5]}"


def test_outages_answer_503_drop_nothing_and_recover(world: World) -> None:
    # Student 0 takes its seat first: the recovery probe rejoins with it.
    with httpx.Client(base_url=world.api_url, timeout=HANG_S) as client:
        assert join(client, world, 0, 0, "seat").status == 200
    with Storm(world) as storm:
        time.sleep(1.5)

        storm.phase = "postgres restart"
        world.postgres.restart()
        assert _back_within(world, BACK_WITHIN_S) <= BACK_WITHIN_S
        time.sleep(1.0)

        storm.phase = "postgres stopped"
        world.postgres.stop()
        time.sleep(5.0)
        stopped = storm.answers[-STORM_CLIENTS:]
        world.postgres.start()
        assert _back_within(world, BACK_WITHIN_S) <= BACK_WITHIN_S
        assert {a.status for a in stopped} == {503}, stopped
        assert _metric(world, "tutorium_database_outages_total") >= 1
        time.sleep(1.0)

        storm.phase = "redis stopped"
        redis_stopped_at = time.monotonic()
        world.redis.stop()
        time.sleep(1.5)
        ready = httpx.get(f"{world.api_url}/health/ready", timeout=HANG_S)
        assert (ready.status_code, ready.json()["rate_limit_storage"]) == (200, "degraded")
        assert {a.status for a in storm.since(redis_stopped_at + 0.5)} <= {200, 409}
        world.redis.start()
        time.sleep(BACK_WITHIN_S)
        ready = httpx.get(f"{world.api_url}/health/ready", timeout=HANG_S)
        assert ready.json()["rate_limit_storage"] == "ok"

        storm.phase = "worker killed"
        [victim, *_] = _worker_pids(world.api.process.pid)
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        assert _back_within(world, BACK_WITHIN_S) <= BACK_WITHIN_S
        time.sleep(2.0)

    before_kill = [a for a in storm.answers if a.at < killed_at]
    after_kill = [a for a in storm.answers if a.at >= killed_at]
    _check_answers(before_kill)
    _check_answers(after_kill, allow_resets_until=killed_at + BACK_WITHIN_S)
    phases = Counter((a.phase, a.status) for a in storm.answers)
    assert phases[("warm-up", 200)] > 0, phases
    assert phases[("postgres stopped", 503)] > 0, phases
    assert phases[("worker killed", 200)] > 0, phases
    _check_rows(world, [a for a in storm.answers if a.status == 200])


def _check_rows(world: World, joined: list[Answer]) -> None:
    with world.engine.connect() as db:
        over = db.execute(
            text(
                "SELECT s.id FROM sessions s JOIN session_participants p ON p.session_id = s.id"
                " WHERE p.role = 'student' AND p.removed_at IS NULL"
                " GROUP BY s.id, s.max_participants HAVING count(*) > s.max_participants"
            )
        ).all()
        duplicates = db.execute(
            text(
                "SELECT session_id, user_id FROM session_participants"
                " GROUP BY session_id, user_id HAVING count(*) > 1"
            )
        ).all()
        places = {
            (str(session_id), str(user_id))
            for session_id, user_id in db.execute(
                text("SELECT session_id, user_id FROM session_participants")
            )
        }
        seated_events = Counter(
            (str(session_id), user_id)
            for session_id, user_id in db.execute(
                text(
                    "SELECT session_id, payload->>'user_id' FROM session_events"
                    " WHERE type = 'participant.seated'"
                )
            )
        )
        user_ids = dict(
            db.execute(text("SELECT email, id FROM users WHERE role = 'student'")).all()
        )
    assert over == []
    assert duplicates == []
    assert set(seated_events) == places  # one event per place, no event without one
    assert set(seated_events.values()) == {1}
    by_student = _student_ids(user_ids)
    missing = {
        (world.session_ids[a.session], by_student[a.student])
        for a in joined
        if (world.session_ids[a.session], by_student[a.student]) not in places
    }
    assert missing == set()


def _student_ids(user_ids: dict[str, Any]) -> dict[int, str]:
    """Student number -> user id, from the emails `_seed` gave them (s<n>-…)."""
    return {int(email.split("-", 1)[0][1:]): str(uid) for email, uid in user_ids.items()}


IDLE_CONNECTIONS = 200


def test_idle_and_half_sent_connections_do_not_stop_the_api(world: World) -> None:
    """Slow clients hold sockets, not workers: 200 of them (half silent, half stuck inside
    their request head, as a slow-loris client is) leave the API answering everyone else."""
    sockets = []
    try:
        for n in range(IDLE_CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", _port(world)), timeout=HANG_S)
            if n % 2:
                sock.sendall(b"POST /api/v1/sessions/join-by-code HTTP/1.1\r\nHost: chaos\r\n")
            sockets.append(sock)
        with httpx.Client(base_url=world.api_url, timeout=HANG_S) as client:
            answers = [join(client, world, 0, 0, "idle").status for _ in range(10)]
            ready = client.get("/health/ready")
    finally:
        for sock in sockets:
            sock.close()
    assert answers == [200] * 10
    assert ready.status_code == 200


def _port(world: World) -> int:
    return int(world.api_url.rsplit(":", 1)[1])
