"""Scaling out, measured: the join storm through HAProxy + PgBouncer to two API hosts against
one host straight on PostgreSQL, in the same run, on the district of tests/scale (root).

On a 2-core machine two hosts cannot run faster than one: this measures what the extra hops
cost (a ratio), how many PostgreSQL connections each layout holds, and PostgreSQL's CPU time
per join, from which README estimates how many joins per second (and API hosts) one
PostgreSQL can carry. Figures go to bench/RESULTS.md by hand.

    sudo .venv/bin/python -m bench.scale [--students 400] [--concurrency 24] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from sqlalchemy import create_engine, text

from bench.processes import cluster_cpu_seconds
from tests.scale.district import District, build_district
from tests.scale.test_join_storm import join
from tests.scale.topology import API_PORT, ApiHost

DIRECT_PORT = API_PORT + 1
CLASS_SIZE = 150  # seats per session (the API allows up to 199); a storm fills several


@dataclass
class Round:
    layout: str
    joins: int
    seconds: float
    statuses: Counter[int]
    peak_connections: dict[str, int]
    postgres_cpu_s: float

    @property
    def joins_per_s(self) -> float:
        return self.joins / self.seconds


class ConnectionSampler:
    """Peak PostgreSQL client connections by client address, every 50 ms, beside the storm."""

    def __init__(self, district: District) -> None:
        self.engine = create_engine(
            district.direct_url, connect_args={"application_name": "scale-bench"}
        )
        self.peak: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _now(self) -> Counter[str]:
        with self.engine.connect() as db:
            rows = db.execute(
                text(
                    "SELECT coalesce(host(client_addr), 'local'), count(*) FROM pg_stat_activity"
                    " WHERE backend_type = 'client backend'"
                    " AND application_name <> 'scale-bench' GROUP BY 1"
                )
            ).all()
        return Counter(dict(rows))

    def _run(self) -> None:
        while not self._stop.is_set():
            for address, count in self._now().items():
                self.peak[address] = max(self.peak[address], count)
            time.sleep(0.05)

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()


def _postmaster(district: District) -> int:
    return int((district.postgres.data_dir / "postmaster.pid").read_text().split()[0])


def storm_round(
    district: District, layout: str, base_url: str, students: int, concurrency: int
) -> Round:
    teacher, tokens = district.teacher_and_students(students)
    classes = -(-students // CLASS_SIZE)
    codes = [district.create_session(teacher, CLASS_SIZE)["room_code"] for _ in range(classes)]
    district.engine.dispose()  # its idle connections would count as the API's
    local = threading.local()

    def one(student: int) -> int | None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base_url, timeout=30)
        return join(local.client, codes[student % classes], tokens[student], student).status

    cpu_before = cluster_cpu_seconds(_postmaster(district))
    with ConnectionSampler(district) as sampler:
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            statuses = Counter(pool.map(one, range(students)))
        seconds = time.perf_counter() - started
    cpu = cluster_cpu_seconds(_postmaster(district)) - cpu_before
    return Round(layout, students, seconds, statuses, dict(sampler.peak), cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench.scale needs root (network namespaces)")
    rounds: list[Round] = []
    with build_district() as district:
        direct = ApiHost(
            "a",
            district.namespaces.name("a"),
            {**district.host_env, "DATABASE_URL": district.direct_url},
            district.workdir,
            port=DIRECT_PORT,
        )
        direct.start()
        try:
            for _ in range(args.rounds):  # alternated, so drift in the machine's load hits both
                for layout, url in (("balanced", district.lb_url), ("direct", direct.url)):
                    rounds.append(
                        storm_round(district, layout, url, args.students, args.concurrency)
                    )
                    print(_line(rounds[-1]), flush=True)
        finally:
            direct.stop()
    _summary(rounds, args)


def _line(r: Round) -> str:
    return (
        f"{r.layout:9} {r.joins} joins in {r.seconds:.2f} s = {r.joins_per_s:.0f}/s;"
        f" statuses {dict(r.statuses)}; peak PostgreSQL connections {r.peak_connections};"
        f" PostgreSQL CPU {r.postgres_cpu_s:.2f} s"
        f" = {1000 * r.postgres_cpu_s / r.joins:.2f} ms/join"
    )


def _summary(rounds: list[Round], args: argparse.Namespace) -> None:
    def total(layout: str) -> tuple[float, float, int]:
        chosen = [r for r in rounds if r.layout == layout]
        return (
            sum(r.seconds for r in chosen),
            sum(r.postgres_cpu_s for r in chosen),
            sum(r.joins for r in chosen),
        )

    balanced_s, balanced_cpu, balanced_joins = total("balanced")
    direct_s, direct_cpu, direct_joins = total("direct")
    ratio = (balanced_joins / balanced_s) / (direct_joins / direct_s)
    cpu_per_join = balanced_cpu / balanced_joins
    print(
        f"students {args.students}, concurrency {args.concurrency}, rounds {args.rounds},"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"throughput ratio balanced+PgBouncer (2 hosts) / one host direct: {ratio:.2f}")
    print(
        f"PostgreSQL CPU per join: {1000 * cpu_per_join:.2f} ms through PgBouncer,"
        f" {1000 * direct_cpu / direct_joins:.2f} ms direct"
        f" -> one PostgreSQL core carries ~{1 / cpu_per_join:.0f} joins/s"
    )


if __name__ == "__main__":
    main()
