"""A steady load: wrk with steady_load.lua, C connections in a closed loop for a fixed time,
all as one user, and its figures (percentiles from the script's own per-request timings)."""

import json
import math
import subprocess
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from bench.load import WRK_ENV, cpu_ms_per_request, cpu_now, require_wrk

STEADY_SCRIPT = Path(__file__).with_name("steady_load.lua")
RESULT_PREFIX = "steady-load "


@dataclass(frozen=True)
class SteadyResult:
    requests: int  # answered and timed
    errors: int  # non-2xx answers and socket errors (connect, read, write, timeout)
    seconds: float
    throughput: float  # 2xx answers per second
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    wrk_corrected_p95_ms: float  # wrk's own histogram, for comparison only (see the script)
    server_cpu_ms_per_request: float = math.nan
    postgres_cpu_ms_per_request: float = math.nan

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def steady_load(
    url: str,
    path: str,
    token_file: Path,
    *,
    concurrency: int,
    seconds: int,
    threads: int = 1,
    server_pid: int | None = None,
) -> SteadyResult:
    """GET `path` with the token in `token_file` for `seconds`; with `server_pid`, also what
    the load cost that process tree and PostgreSQL in CPU time."""
    command = [
        require_wrk(),
        f"--threads={max(1, min(threads, concurrency))}",
        f"--connections={concurrency}",
        f"--duration={seconds}s",
        "--timeout=10s",
        f"--script={STEADY_SCRIPT}",
        url,
        "--",
        path,
        str(token_file),
    ]
    cpu_before = cpu_now(server_pid)
    wrk = subprocess.run(
        command, capture_output=True, text=True, env=WRK_ENV, timeout=seconds + 60, check=True
    )
    cpu_after = cpu_now(server_pid)
    result = _parse(wrk.stdout)
    if server_pid is None or not result.requests:
        return result
    server_ms, postgres_ms = cpu_ms_per_request(cpu_before, cpu_after, result.requests)
    return replace(
        result, server_cpu_ms_per_request=server_ms, postgres_cpu_ms_per_request=postgres_ms
    )


def _parse(stdout: str) -> SteadyResult:
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise RuntimeError(f"wrk printed no result line:\n{stdout}")
    raw = json.loads(lines[-1].removeprefix(RESULT_PREFIX))
    statuses = {status: raw["statuses"][status] for status in sorted(raw["statuses"])}
    ok = sum(count for status, count in statuses.items() if status.startswith("2"))
    seconds = raw["duration_us"] / 1e6
    return SteadyResult(
        requests=raw["timed"],
        errors=sum(statuses.values()) - ok + raw["socket_errors"],
        seconds=round(seconds, 3),
        throughput=round(ok / seconds, 1) if seconds else math.nan,
        p50_ms=_ms(raw["p50_us"]),
        p95_ms=_ms(raw["p95_us"]),
        p99_ms=_ms(raw["p99_us"]),
        max_ms=_ms(raw["max_us"]),
        statuses=statuses,
        wrk_corrected_p95_ms=_ms(raw["wrk_corrected_p95_us"]),
    )


def _ms(microseconds: int) -> float:
    return round(microseconds / 1000, 1) if microseconds >= 0 else math.nan
