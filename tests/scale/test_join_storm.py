"""Join storms through HAProxy and PgBouncer to two API hosts: seats stay exact, and a host
can die mid-class.

Every request goes to the balancer, which spreads them over both hosts; every statement the
hosts send passes PgBouncer in transaction mode. The rows are read straight from PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from jose import jwt

from tests.scale import topology
from tests.scale.district import District

JOIN = "/api/v1/sessions/join-by-code"
CLIENTS = 12
# HAProxy's checks (deploy/haproxy.cfg): inter 1s, fall 2, a connect timeout of 2 s each.
HEALTH_CHECK_WINDOW_S = 2 * (1.0 + 2.0)


@dataclass
class Answer:
    student: int
    status: int | None  # None: no answer (the connection broke)
    code: str = ""
    error: str = ""
    at: float = field(default_factory=time.monotonic)

    @property
    def failed(self) -> bool:
        return self.status is None or self.status >= 500


def join(client: httpx.Client, room_code: str, token: str, student: int) -> Answer:
    try:
        response = client.post(
            JOIN, json={"room_code": room_code}, headers={"Authorization": f"Bearer {token}"}
        )
    except httpx.TransportError as exc:
        return Answer(student, None, error=repr(exc))
    body = response.json() if response.headers.get("content-type") == "application/json" else {}
    return Answer(student, response.status_code, code=body.get("code", ""))


def test_a_join_storm_seats_exactly_the_seats(district: District) -> None:
    seats, students = 25, 60
    teacher, tokens = district.teacher_and_students(students)
    session = district.create_session(teacher, seats)
    local = threading.local()

    def one(student: int) -> Answer:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=district.lb_url, timeout=30)
        return join(local.client, session["room_code"], tokens[student], student)

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(one, range(students)))

    statuses = Counter((a.status, a.code) for a in answers)
    assert statuses == {(200, ""): seats, (409, "session_full"): students - seats}, statuses
    seated = district.seated(session["id"])
    assert len(seated) == len(set(seated)) == seats
    # Both hosts served the storm: the balancer spread it.
    served = {name: _served_joins(district, name) for name in district.hosts}
    assert all(count > 0 for count in served.values()), served


class Storm:
    """CLIENTS threads through the balancer, each on its own connection, each rejoining its
    students in turn (a rejoin answers 200 with the same place) until stopped."""

    def __init__(self, district: District, session: dict[str, str], tokens: list[str]) -> None:
        self.district, self.session, self.tokens = district, session, tokens
        self.answers: list[Answer] = []
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(CLIENTS)
        ]

    def __enter__(self) -> Storm:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(35)

    def _client(self, number: int) -> None:
        student = number
        with httpx.Client(base_url=self.district.lb_url, timeout=30) as http:
            while not self._stop.is_set():
                answer = join(http, self.session["room_code"], self.tokens[student], student)
                with self._lock:
                    self.answers.append(answer)
                student = (student + CLIENTS) % len(self.tokens)

    def failed(self) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.failed]


def test_a_host_killed_mid_storm_loses_only_its_requests_in_flight(district: District) -> None:
    seats, students = 40, 50
    teacher, tokens = district.teacher_and_students(students)
    session = district.create_session(teacher, seats)
    victim = district.hosts["a"]
    try:
        with Storm(district, session, tokens) as storm:
            time.sleep(2.0)
            victim.kill()
            killed_at = time.monotonic()
            out_after = topology.wait_for_servers(
                district.workdir, {"api-b"}, HEALTH_CHECK_WINDOW_S + 2
            )
            time.sleep(3.0)
        failed = storm.failed()
        print(
            f"host a killed: {len(failed)} of {len(storm.answers)} failed, out in {out_after:.2f} s"
        )
        assert out_after <= HEALTH_CHECK_WINDOW_S
        # At most one request per client was in flight on the killed host.
        assert len(failed) <= CLIENTS, (killed_at, failed)
        # ... and they failed then: none once HAProxy had the host out (2 s of slack for a
        # loaded machine to deliver the answers).
        settled = killed_at + out_after + 2.0
        assert all(killed_at - 0.5 <= a.at <= settled for a in failed), (killed_at, failed)
        assert any(a.status == 200 and a.at > settled for a in storm.answers)
        _check_places(district, session, storm.answers, seats, tokens)
    finally:
        victim.start()
        topology.wait_for_servers(district.workdir, {"api-a", "api-b"})


def test_a_rolling_restart_mid_storm_fails_no_request(district: District) -> None:
    """alembic upgrade head once, then each host in turn: drained at the balancer, stopped
    with SIGTERM (uvicorn finishes what it holds), started, put back."""
    seats, students = 40, 50
    teacher, tokens = district.teacher_and_students(students)
    session = district.create_session(teacher, seats)
    with Storm(district, session, tokens) as storm:
        time.sleep(1.0)
        district.upgrade_schema()
        for name, host in district.hosts.items():
            server = f"api-{name}"
            topology.drain(district.workdir, server)
            host.stop()
            host.start()
            topology.make_ready(district.workdir, server)
            topology.wait_for_servers(district.workdir, {"api-a", "api-b"})
            time.sleep(1.0)
    failed = storm.failed()
    print(f"rolling restart: {len(failed)} of {len(storm.answers)} failed")
    assert failed == []
    assert len(storm.answers) > 2 * CLIENTS
    _check_places(district, session, storm.answers, seats, tokens)


def _check_places(
    district: District,
    session: dict[str, str],
    answers: list[Answer],
    seats: int,
    tokens: list[str],
) -> None:
    """Every 200 has its place; nobody is seated twice; no session over its seats."""
    seated = district.seated(session["id"])
    assert len(seated) == len(set(seated)) <= seats
    ids = _student_ids(tokens)
    joined = {ids[a.student] for a in answers if a.status == 200}
    assert joined <= set(seated)
    full = [a for a in answers if a.code == "session_full"]
    if full:  # a refusal for a full session only once every seat was taken
        assert len(seated) == seats


def _student_ids(tokens: list[str]) -> dict[int, str]:
    return {n: jwt.get_unverified_claims(token)["sub"] for n, token in enumerate(tokens)}


def _served_joins(district: District, host: str) -> int:
    """Joins this host answered, from its own /metrics (asked directly, not via the balancer)."""
    text = httpx.get(f"{district.hosts[host].url}/metrics", timeout=10).text
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("tutorium_http_requests_total") and "join-by-code" in line
        )
    )
