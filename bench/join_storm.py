"""`make bench`: a class's join rush, N students joining one session by code at once.

The API runs under uvicorn (`--workers`) on PostgreSQL, Daily is the local emulator with
80 ms added to every call, and wrk sends one `POST /sessions/join-by-code` per student, C at
a time. The yardstick is `bench/baseline_app.py` (one indexed SELECT, one INSERT) under the
same workers, pool, concurrency and wrk script; its storms alternate with the API's, so the
ratios compare runs seconds apart, whatever the shared machine is doing. Each mode runs one
warm-up storm (worker start-up, the per-process domain-id lookup, pool fill) and then
`--repeats` storms on fresh sessions; the figures are the medians.

    .venv/bin/python -m bench.join_storm --students 500 --concurrency 50 --workers 2
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from app.models.user import UserRole
from bench import seed
from bench.baseline_app import BASELINE_PATH, create_tables
from bench.load import StormResult, storm
from bench.processes import (
    HOST,
    ApiSecrets,
    ProcessGroup,
    Service,
    add_run_arguments,
    api_env,
    free_port,
    start_uvicorn,
)

JOIN_PATH = "/api/v1/sessions/join-by-code"
TARGET_RATIO = 0.6
TARGET_P99_FACTOR = 2.0
GATED_MODE = "self_signed"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500, help="N: joins per storm")
    parser.add_argument("--concurrency", type=int, default=50, help="C: connections")
    parser.add_argument("--repeats", type=int, default=3, help="timed storms per mode")
    parser.add_argument("--latency-ms", type=int, default=80, help="added to each Daily call")
    parser.add_argument("--modes", default="self_signed,api", help="DAILY_TOKEN_MODE values")
    parser.add_argument("--profile", action="store_true", help="py-spy the timed API storms")
    add_run_arguments(parser, pool_size=None, max_overflow=None)
    args = parser.parse_args(argv)
    args.modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    return args


class Daily:
    """The emulator's request log: which Daily calls a storm made."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def take_calls(self) -> dict[str, int]:
        log = httpx.get(f"{self.base_url}/_emulator/requests", timeout=10).json()["data"]
        httpx.delete(f"{self.base_url}/_emulator/requests", timeout=10)
        calls = Counter(f"{entry['method']} {entry['path']}" for entry in log)
        return dict(sorted(calls.items()))


def start_server(
    group: ProcessGroup, name: str, app: str, env: dict[str, str], args: argparse.Namespace
) -> tuple[Service, str]:
    return start_uvicorn(group, name, app, env, workers=args.workers, log_dir=args.out)


def start_profiler(service: Service, output: Path) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(service.pid),
        "--subprocesses", "--rate", "100", "--nonblocking", "--gil",
        "--format", "raw", "--output", str(output),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(profiler: subprocess.Popen[bytes]) -> None:
    profiler.send_signal(signal.SIGINT)
    profiler.wait(timeout=60)


def median_of(runs: list[StormResult], field: str) -> float:
    return round(statistics.median(getattr(run, field) for run in runs), 1)


def summarise(runs: list[StormResult]) -> dict[str, Any]:
    daily: Counter[str] = Counter()
    for run in runs:
        daily.update(run.daily_calls)
    return {
        "throughput": median_of(runs, "throughput"),
        "p50_ms": median_of(runs, "p50_ms"),
        "p90_ms": median_of(runs, "p90_ms"),
        "p99_ms": median_of(runs, "p99_ms"),
        "server_cpu_ms_per_request": median_of(runs, "server_cpu_ms_per_request"),
        "postgres_cpu_ms_per_request": median_of(runs, "postgres_cpu_ms_per_request"),
        "errors": sum(run.errors for run in runs),
        "requests": sum(run.requests for run in runs),
        "daily_calls": dict(sorted(daily.items())),
        "runs": [run.as_dict() for run in runs],
    }


def run_mode(
    mode: str,
    codes: list[str],
    *,
    group: ProcessGroup,
    env: dict[str, str],
    baseline: tuple[Service, str],
    baseline_code: str,
    tokens: Path,
    daily: Daily,
    args: argparse.Namespace,
) -> dict[str, Any]:
    api, api_url = start_server(group, f"api-{mode}", "app.main:app", env, args)

    def join_storm(code: str) -> StormResult:
        return storm(
            api_url, JOIN_PATH, {"room_code": code}, tokens,
            concurrency=args.concurrency, threads=args.wrk_threads, server_pid=api.pid,
        )  # fmt: skip

    def baseline_storm() -> StormResult:
        return storm(
            baseline[1], BASELINE_PATH, {"room_code": baseline_code}, tokens,
            concurrency=args.concurrency, threads=args.wrk_threads, server_pid=baseline[0].pid,
        )  # fmt: skip

    warm_up = join_storm(codes[0])
    baseline_storm()
    warm_up_calls = daily.take_calls()
    profiler = start_profiler(api, args.out / f"profile-{mode}.txt") if args.profile else None
    joins: list[StormResult] = []
    baselines: list[StormResult] = []
    try:
        for code in codes[1:]:
            baselines.append(baseline_storm())
            result = join_storm(code)
            joins.append(StormResult(**{**result.as_dict(), "daily_calls": daily.take_calls()}))
            print(f"  {mode:<11} storm: {_line(result)}", flush=True)
            print(f"  {'baseline':<11} storm: {_line(baselines[-1])}", flush=True)
    finally:
        if profiler is not None:
            stop_profiler(profiler)
        group.stop(api)
    join_summary, baseline_summary = summarise(joins), summarise(baselines)
    return {
        "mode": mode,
        "warm_up": {**warm_up.as_dict(), "daily_calls": warm_up_calls},
        "joins": join_summary,
        "baseline": baseline_summary,
        "throughput_ratio": round(join_summary["throughput"] / baseline_summary["throughput"], 3),
        "p99_factor": round(join_summary["p99_ms"] / baseline_summary["p99_ms"], 2),
    }


def _line(run: StormResult) -> str:
    return (
        f"{run.throughput:7.1f}/s  p50 {run.p50_ms:6.1f}  p90 {run.p90_ms:6.1f}  "
        f"p99 {run.p99_ms:6.1f} ms  errors {run.errors}  {run.statuses}  CPU ms/req: "
        f"server {run.server_cpu_ms_per_request}, PostgreSQL {run.postgres_cpu_ms_per_request}"
    )


def verdict(result: dict[str, Any]) -> list[str]:
    misses = []
    if result["joins"]["errors"]:
        misses.append(f"{result['joins']['errors']} errors (target 0)")
    if result["throughput_ratio"] < TARGET_RATIO:
        misses.append(f"throughput ratio {result['throughput_ratio']} < {TARGET_RATIO}")
    if result["p99_factor"] > TARGET_P99_FACTOR:
        misses.append(f"p99 {result['p99_factor']}x the baseline's > {TARGET_P99_FACTOR}x")
    return misses


def print_report(results: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    print(
        f"\njoin storm: N={args.students} C={args.concurrency} workers={args.workers} "
        f"Daily latency {args.latency_ms} ms, median of {args.repeats} storms per mode"
    )
    header = f"{'':<22}{'req/s':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'errors':>8}"
    print(header)
    misses: list[str] = []
    for result in results:
        for label, part in (
            (f"join ({result['mode']})", result["joins"]),
            ("  baseline alongside", result["baseline"]),
        ):
            print(
                f"{label:<22}{part['throughput']:>8.1f}{part['p50_ms']:>9.1f}"
                f"{part['p90_ms']:>9.1f}{part['p99_ms']:>9.1f}{part['errors']:>8}"
            )
        calls = result["joins"]["daily_calls"] or "none"
        print(
            f"  ratio joins/s ÷ baseline req/s = {result['throughput_ratio']:.2f}, "
            f"p99 = {result['p99_factor']:.2f}x baseline; Daily calls in the timed storms: "
            f"{calls}; warm-up: {result['warm_up']['daily_calls'] or 'none'}"
        )
        if result["mode"] == GATED_MODE:
            misses = verdict(result)
    gate = "met" if not misses else "MISSED: " + "; ".join(misses)
    print(
        f"targets ({GATED_MODE}: 0 errors, ratio >= {TARGET_RATIO}, "
        f"p99 <= {TARGET_P99_FACTOR}x baseline): {gate}"
    )
    return misses


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    api_secrets = ApiSecrets.generate()
    emulator_port = free_port()
    daily_url = f"http://{HOST}:{emulator_port}"
    storms_per_mode = 1 + args.repeats

    print(f"bench: database {args.database_url.rsplit('/', 1)[-1]}: recreate, migrate, seed")
    seed.recreate_and_migrate(args.database_url)
    settings = seed.token_settings(args.database_url, api_secrets.secret_key)
    from app.db.session import build_engine

    engine = build_engine(settings)
    relaxed = seed.allow_seats(engine, args.students)
    cohort = seed.seed_users(engine, args.students)
    codes = seed.seed_sessions(
        engine, cohort.teacher_id, count=storms_per_mode * len(args.modes),
        seats=args.students, room_base_url=daily_url,
    )  # fmt: skip
    baseline_code = seed.room_code(7)
    create_tables(engine, baseline_code)
    engine.dispose()
    tokens = seed.write_tokens(
        args.out / "tokens.txt", settings, cohort.student_ids, UserRole.STUDENT
    )

    env = api_env(
        args.database_url, f"{daily_url}/v1", api_secrets,
        pool_size=args.pool_size, max_overflow=args.max_overflow,
    )  # fmt: skip

    results = []
    with ProcessGroup() as group:
        emulator_command = [
            sys.executable, "-m", "devtools.daily_emulator", "--host", HOST,
            "--port", str(emulator_port), "--latency-ms", str(args.latency_ms),
        ]  # fmt: skip
        emulator_env = {
            **os.environ,
            "DAILY_EMULATOR_API_KEY": api_secrets.daily_api_key,
            "DAILY_EMULATOR_WEBHOOK_SECRET": api_secrets.daily_webhook_secret,
        }
        emulator = Service("daily-emulator", emulator_command, emulator_env, args.out / "emu.log")
        group.start(emulator).wait_http(f"{daily_url}/_emulator/requests")
        daily = Daily(daily_url)
        baseline = start_server(group, "baseline", "bench.baseline_app:app", env, args)
        for index, mode in enumerate(args.modes):
            print(f"bench: {mode} mode", flush=True)
            mode_codes = codes[index * storms_per_mode : (index + 1) * storms_per_mode]
            results.append(
                run_mode(
                    mode,
                    mode_codes,
                    group=group,
                    env={**env, "DAILY_TOKEN_MODE": mode},
                    baseline=baseline,
                    baseline_code=baseline_code,
                    tokens=tokens,
                    daily=daily,
                    args=args,
                )
            )
    misses = print_report(results, args)
    report = {
        "students": args.students,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "repeats": args.repeats,
        "daily_latency_ms": args.latency_ms,
        "pool_size": args.pool_size,
        "max_overflow": args.max_overflow,
        "seat_check_dropped_in_bench_db": relaxed,
        "results": results,
        "targets_missed": misses,
    }
    (args.out / "join_storm.json").write_text(json.dumps(report, indent=2))
    print(f"bench: details in {args.out / 'join_storm.json'}")
    return 1 if misses and not args.no_check else 0


if __name__ == "__main__":
    sys.exit(main())
