"""`make bench`, second scenario: the reads' p95 stays flat while the data grows tenfold.

The bench database is seeded with 10k sessions and 100k presence rows (bench/read_seed.py),
then grown to 100k and 1M. At each size the API runs under uvicorn and wrk holds C
connections on three reads of the same measured users: `GET /sessions?limit=20` as a teacher
and as a student, each with 50 sessions, and `GET /sessions/{id}/attendance` of a 30-student
class, as its teacher. Their result sets are the same at both sizes (checked), so any change
in latency is the cost of the bigger tables. After a warm-up per endpoint, the endpoints take
turns for `--rounds` rounds of `--seconds` each, and each figure is the median of its rounds:
a burst from another tenant of this shared machine then moves one round, not the result.
Reads never call Daily: DAILY_API_URL points at a closed local port.

    .venv/bin/python -m bench.read_growth --sessions 10000 --growth 10 --concurrency 20
"""

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from app.db.session import build_engine
from app.models.user import UserRole
from bench import read_seed, seed
from bench.processes import (
    HOST,
    ApiSecrets,
    ProcessGroup,
    add_run_arguments,
    api_env,
    free_port,
    start_uvicorn,
)
from bench.steady_load import SteadyResult, steady_load

SESSIONS_PATH = "/api/v1/sessions?limit=20"
ATTENDANCE_PATH = f"/api/v1/sessions/{read_seed.MEASURED.session_id}/attendance"
TARGET_P95_RATIO = 1.5
MEDIANS = (
    "throughput",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "server_cpu_ms_per_request",
    "postgres_cpu_ms_per_request",
)


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    token_file: Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000, help="sessions at first")
    parser.add_argument("--growth", type=int, default=10, help="then this many times as many")
    parser.add_argument("--concurrency", type=int, default=20, help="C: wrk connections")
    parser.add_argument("--seconds", type=int, default=4, help="timed load per round")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per endpoint")
    parser.add_argument("--warm-up", type=int, default=3, help="untimed load before each")
    parser.add_argument("--max-ratio", type=float, default=TARGET_P95_RATIO, help="p95 target")
    add_run_arguments(parser, pool_size=5, max_overflow=5)
    return parser.parse_args(argv)


def response_shape(url: str, endpoint: Endpoint) -> dict[str, Any]:
    """How many rows the endpoint returns: the same at every size, or the sizes compare
    different work."""
    token = endpoint.token_file.read_text().split()[0]
    response = httpx.get(
        f"{url}{endpoint.path}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    response.raise_for_status()
    body = response.json()
    return {"items": len(body["items"]), "total": body.get("total")}


def measure(
    url: str, endpoints: list[Endpoint], server_pid: int, sessions: int, args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    """A warm-up per endpoint, then `rounds` rounds in which each endpoint takes its turn."""

    def load(endpoint: Endpoint, seconds: int, pid: int | None) -> SteadyResult:
        return steady_load(
            url, endpoint.path, endpoint.token_file, concurrency=args.concurrency,
            seconds=seconds, threads=args.wrk_threads, server_pid=pid,
        )  # fmt: skip

    for endpoint in endpoints:
        load(endpoint, args.warm_up, None)
    runs: dict[str, list[SteadyResult]] = {endpoint.name: [] for endpoint in endpoints}
    for round_number in range(1, args.rounds + 1):
        for endpoint in endpoints:
            run = load(endpoint, args.seconds, server_pid)
            runs[endpoint.name].append(run)
            print(
                f"  {sessions:>7} sessions, round {round_number}, {endpoint.name:<20} {_line(run)}"
            )
    return {name: summarise(endpoint_runs) for name, endpoint_runs in runs.items()}


def summarise(runs: list[SteadyResult]) -> dict[str, Any]:
    def median(field: str) -> float:
        return round(statistics.median(getattr(run, field) for run in runs), 2)

    return {
        **{field: median(field) for field in MEDIANS},
        "requests": sum(run.requests for run in runs),
        "errors": sum(run.errors for run in runs),
        "runs": [run.as_dict() for run in runs],
    }


def run_size(
    group: ProcessGroup,
    env: dict[str, str],
    endpoints: list[Endpoint],
    counts: dict[str, int],
    args: argparse.Namespace,
) -> dict[str, Any]:
    sessions = counts["sessions"]
    api, url = start_uvicorn(
        group, f"api-reads-{sessions}", "app.main:app", env,
        workers=args.workers, log_dir=args.out,
    )  # fmt: skip
    try:
        shapes = {endpoint.name: response_shape(url, endpoint) for endpoint in endpoints}
        results = measure(url, endpoints, api.pid, sessions, args)
    finally:
        group.stop(api)
    return {"counts": counts, "shapes": shapes, "results": results}


def _line(run: SteadyResult) -> str:
    return (
        f"{run.throughput:7.1f}/s  p50 {run.p50_ms:6.1f}  p95 {run.p95_ms:6.1f}  "
        f"p99 {run.p99_ms:6.1f} ms  errors {run.errors}  CPU ms/req: server "
        f"{run.server_cpu_ms_per_request}, PostgreSQL {run.postgres_cpu_ms_per_request}"
    )


def print_report(sizes: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    print(
        f"\nread growth: C={args.concurrency}, {args.workers} workers, pool {args.pool_size}"
        f"+{args.max_overflow}; per endpoint a {args.warm_up} s warm-up, then the median of "
        f"{args.rounds} rounds of {args.seconds} s (percentiles: per-request, steady_load.lua)"
    )
    print(
        f"{'endpoint':<20}{'sessions':>10}{'presence':>11}{'req/s':>8}{'p50 ms':>8}"
        f"{'p95 ms':>8}{'p99 ms':>8}{'errors':>8}{'CPU ms/req: app':>17}{'PostgreSQL':>12}"
    )
    small, large = sizes[0], sizes[-1]
    ratios: dict[str, float] = {}
    misses: list[str] = []
    for name in small["results"]:
        for size in (small, large):
            run = size["results"][name]
            print(
                f"{name:<20}{size['counts']['sessions']:>10,}"
                f"{size['counts']['participant_presence']:>11,}{run['throughput']:>8.1f}"
                f"{run['p50_ms']:>8.1f}{run['p95_ms']:>8.1f}{run['p99_ms']:>8.1f}"
                f"{run['errors']:>8}{run['server_cpu_ms_per_request']:>17}"
                f"{run['postgres_cpu_ms_per_request']:>12}"
            )
            if run["errors"]:
                misses.append(f"{name}: {run['errors']} errors")
        ratios[name] = round(large["results"][name]["p95_ms"] / small["results"][name]["p95_ms"], 2)
        if ratios[name] > args.max_ratio:
            misses.append(f"{name}: p95 ratio {ratios[name]} > {args.max_ratio}")
        if small["shapes"][name] != large["shapes"][name]:
            misses.append(f"{name}: rows {small['shapes'][name]} -> {large['shapes'][name]}")
    print(
        f"p95 at {large['counts']['sessions']:,} sessions / p95 at "
        f"{small['counts']['sessions']:,}: "
        + ", ".join(f"{name} {ratio:.2f}" for name, ratio in ratios.items())
    )
    gate = "met" if not misses else "MISSED: " + "; ".join(misses)
    print(f"target (p95 ratio <= {args.max_ratio}, 0 errors, same rows at both sizes): {gate}")
    return {"p95_ratios": ratios, "targets_missed": misses}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    api_secrets = ApiSecrets.generate()
    settings = seed.token_settings(args.database_url, api_secrets.secret_key)
    closed_port = f"http://{HOST}:{free_port()}"  # reads never call Daily
    sizes_wanted = [args.sessions, args.sessions * args.growth]

    print(f"read growth: database {args.database_url.rsplit('/', 1)[-1]}: recreate, migrate")
    seed.recreate_and_migrate(args.database_url)
    engine = build_engine(settings)
    measured = read_seed.MEASURED
    endpoints = [
        Endpoint("sessions, teacher", SESSIONS_PATH, args.out / "reads-teacher.txt"),
        Endpoint("sessions, student", SESSIONS_PATH, args.out / "reads-student.txt"),
        Endpoint("attendance, teacher", ATTENDANCE_PATH, args.out / "reads-teacher.txt"),
    ]
    seed.write_tokens(endpoints[0].token_file, settings, [measured.teacher_id], UserRole.TEACHER)
    seed.write_tokens(endpoints[1].token_file, settings, [measured.student_id], UserRole.STUDENT)
    env = api_env(
        args.database_url, f"{closed_port}/v1", api_secrets,
        pool_size=args.pool_size, max_overflow=args.max_overflow,
    )  # fmt: skip

    sizes: list[dict[str, Any]] = []
    with ProcessGroup() as group:
        for index, total in enumerate(sizes_wanted):
            step = time.monotonic()
            with engine.begin() as connection:
                if index == 0:
                    read_seed.seed(connection, total_sessions=total, room_base_url=closed_port)
                else:
                    read_seed.grow(
                        connection, from_sessions=sizes_wanted[index - 1], to_sessions=total,
                        room_base_url=closed_port,
                    )  # fmt: skip
            read_seed.analyze(engine)
            counts = read_seed.table_counts(engine)
            seconds = round(time.monotonic() - step, 1)
            print(f"read growth: seeded to {counts} in {seconds} s (with VACUUM ANALYZE)")
            sizes.append({**run_size(group, env, endpoints, counts, args), "seed_s": seconds})
    engine.dispose()
    verdict = print_report(sizes, args)
    runtime = round(time.monotonic() - started, 1)
    report = {
        "arguments": {key: str(value) for key, value in vars(args).items()},
        "sizes": sizes,
        **verdict,
        "runtime_s": runtime,
    }
    (args.out / "read_growth.json").write_text(json.dumps(report, indent=2))
    print(f"read growth: {runtime} s in all; details in {args.out / 'read_growth.json'}")
    return 1 if verdict["targets_missed"] and not args.no_check else 0


if __name__ == "__main__":
    sys.exit(main())
