"""The district (tests/scale/topology.py) with its data helpers: built by `build_district`,
used by the scale tests (once per package) and by bench/scale.py."""

from __future__ import annotations

import base64
import secrets
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from app.core.config import REPO_ROOT, Settings
from app.core.security import create_access_token, hash_password
from app.models.user import User, UserRole
from tests.e2e.stack import Server, _inherited_environment, emulator_command, free_port
from tests.own_servers import (
    OwnPostgres,
    OwnRedis,
    postgres_bin,
    start_postgres,
    start_redis,
)
from tests.scale import topology
from tests.scale.topology import BALANCER_IP, LB_PORT, PGBOUNCER_PORT, ApiHost, Namespaces

SECRET_KEY = secrets.token_urlsafe(48)


@dataclass
class District:
    namespaces: Namespaces
    workdir: Path
    postgres: OwnPostgres
    redis: OwnRedis
    engine: Engine
    hosts: dict[str, ApiHost]
    balancer: Server
    emulator_url: str
    webhook_secret: str
    direct_url: str
    host_env: dict[str, str]
    lb_url: str = f"http://{BALANCER_IP}:{LB_PORT}"

    def teacher_and_students(self, students: int) -> tuple[str, list[str]]:
        """A teacher's token and `students` students' tokens (accounts written straight to the
        database, one password hash for all: hashing is what makes signing up slow)."""
        settings = Settings(_env_file=None, secret_key=SECRET_KEY)  # type: ignore[call-arg]
        hashed = hash_password(secrets.token_urlsafe(12))
        people = [
            User(
                email=f"{role.value}-{uuid.uuid4().hex}@example.com",
                full_name="Scale",
                hashed_password=hashed,
                role=role,
            )
            for role in [UserRole.TEACHER] + [UserRole.STUDENT] * students
        ]
        with Session(self.engine) as db:
            db.add_all(people)
            db.commit()
            tokens = [
                create_access_token(user_id=p.id, role=p.role.value, settings=settings).token
                for p in people
            ]
        return tokens[0], tokens[1:]

    def create_session(self, teacher: str, seats: int) -> dict[str, str]:
        with httpx.Client(base_url=self.lb_url, timeout=30) as client:
            created = client.post(
                "/api/v1/sessions",
                json={"title": "Scale", "max_participants": seats},
                headers={"Authorization": f"Bearer {teacher}"},
            )
        assert created.status_code == 201, created.text
        return created.json()

    def upgrade_schema(self) -> None:
        upgrade_schema(self.direct_url)

    def seated(self, session_id: str) -> list[str]:
        """The students holding a place in the session, from the rows."""
        with self.engine.connect() as db:
            return [
                str(user_id)
                for (user_id,) in db.execute(
                    text(
                        "SELECT user_id FROM session_participants WHERE session_id = :s"
                        " AND role = 'student' AND removed_at IS NULL"
                    ),
                    {"s": session_id},
                )
            ]


def upgrade_schema(direct_url: str) -> None:
    """`alembic upgrade head`, straight to PostgreSQL (DDL is no job for PgBouncer)."""
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=REPO_ROOT,
        env={**_inherited_environment(), "DATABASE_URL": direct_url},
        check=True,
        capture_output=True,
    )


@contextmanager
def build_district() -> Iterator[District]:
    """Everything started, the caller's thread inside the `infra` namespace; all of it stopped
    and removed on the way out."""
    namespaces = Namespaces()
    namespaces.remove()  # a run killed before its teardown left them behind
    namespaces.create()
    workdir = topology.postgres_owned_dir("tutorium-scale-")
    started: list[Server] = []
    hosts: dict[str, ApiHost] = {}
    postgres = redis_server = pgbouncer = engine = None
    try:
        with namespaces.inside_infra():
            postgres = start_postgres(postgres_bin(), free_port(), host=BALANCER_IP)
            direct = f"postgresql+psycopg2://postgres@{BALANCER_IP}:{postgres.port}/postgres"
            subprocess.run(
                [sys.executable, "-m", "alembic", "upgrade", "head"],
                cwd=REPO_ROOT,
                env={**_inherited_environment(), "DATABASE_URL": direct},
                check=True,
                capture_output=True,
            )
            engine = create_engine(direct, pool_pre_ping=True)
            redis_server = start_redis(workdir, free_port(), host=BALANCER_IP)
            pgbouncer = topology.start_pgbouncer(workdir, postgres.port)
            emulator_port = free_port()
            emulator_url = f"http://{BALANCER_IP}:{emulator_port}"
            api_key = secrets.token_hex(24)
            webhook_secret = base64.b64encode(secrets.token_bytes(32)).decode()
            emulator = Server(
                "Daily emulator (scale)",
                [
                    *emulator_command(emulator_port, BALANCER_IP),
                    "--webhook-url",
                    f"http://{BALANCER_IP}:{LB_PORT}/api/v1/webhooks/daily",
                ],
                {
                    **_inherited_environment(),
                    "DAILY_EMULATOR_API_KEY": api_key,
                    "DAILY_EMULATOR_WEBHOOK_SECRET": webhook_secret,
                },
                workdir / "emulator.log",
            )
            started.append(emulator)
            emulator.wait_until_ready(f"{emulator_url}/_emulator")
            env = topology.api_host_environment(
                database_url=f"postgresql+psycopg2://postgres@{BALANCER_IP}:{PGBOUNCER_PORT}/tutorium",
                listen_url=direct,
                redis_url=redis_server.url,
                emulator_url=emulator_url,
                api_key=api_key,
                webhook_secret=webhook_secret,
                secret_key=SECRET_KEY,
            )
            for name in ("a", "b"):
                hosts[name] = ApiHost(name, namespaces.name(name), env, workdir)
                hosts[name].start()
            balancer = topology.start_haproxy(workdir)
            started.append(balancer)
            topology.wait_for_servers(workdir, {"api-a", "api-b"})
            yield District(
                namespaces,
                workdir,
                postgres,
                redis_server,
                engine,
                hosts,
                balancer,
                emulator_url,
                webhook_secret,
                direct,
                env,
            )
    finally:
        with namespaces.inside_infra():
            for host in hosts.values():
                host.stop()
            for server in reversed(started):
                server.stop()
            if pgbouncer is not None:
                pgbouncer.terminate()
                pgbouncer.wait(10)
            if redis_server is not None:
                redis_server.stop()
            if engine is not None:
                engine.dispose()
            if postgres is not None:
                postgres.close()
        namespaces.remove()
        shutil.rmtree(workdir, ignore_errors=True)
