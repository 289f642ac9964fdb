"""wrk runs and their figures: a storm (join_storm.lua, exactly one request per token) and a
steady load (steady_load.lua, C connections for a fixed time).

wrk (C, epoll) rather than a Python client: on two cores an asyncio client competes with the
server's workers for CPU and becomes the bottleneck it was meant to measure.
"""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from bench.processes import postgres_cpu_between, postgres_cpu_snapshot, tree_cpu_seconds

BENCH_DIR = Path(__file__).parent
LUA_SCRIPT = BENCH_DIR / "join_storm.lua"
STEADY_SCRIPT = BENCH_DIR / "steady_load.lua"
# The scripts share bench/monotonic.lua through require().
WRK_ENV = {**os.environ, "LUA_PATH": f"{BENCH_DIR}/?.lua;;"}


@dataclass(frozen=True)
class StormResult:
    requests: int
    ok: int
    errors: int
    seconds: float
    throughput: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int] = field(default_factory=dict)
    server_cpu_ms_per_request: float = math.nan
    postgres_cpu_ms_per_request: float = math.nan
    daily_calls: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest rank: the smallest value with at least pct% of the values at or below it."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("bench: wrk is not installed (make bench installs it: apt-get install wrk)")
    return wrk


def storm(
    url: str,
    path: str,
    body: dict[str, str],
    tokens_file: Path,
    *,
    concurrency: int,
    threads: int = 1,
    timeout_s: int = 120,
    server_pid: int | None = None,
) -> StormResult:
    """Send one POST per line of `tokens_file` with `concurrency` connections; with
    `server_pid`, also what the storm cost that process tree and PostgreSQL in CPU time."""
    expected = sum(1 for line in tokens_file.read_text().splitlines() if line)
    concurrency = min(concurrency, expected)  # a connection beyond the tokens would only park
    threads = max(1, min(threads, concurrency))
    with tempfile.TemporaryDirectory(prefix="join-storm-") as work:
        prefix = f"{work}/thread-"
        command = [
            require_wrk(),
            f"--threads={threads}",
            f"--connections={concurrency}",
            f"--duration={timeout_s}s",
            "--timeout=60s",
            f"--script={LUA_SCRIPT}",
            url,
            "--",
            str(tokens_file),
            prefix,
            str(threads),
            path,
            json.dumps(body),
        ]
        cpu_before = cpu_now(server_pid)
        wrk = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=WRK_ENV
        )
        try:
            outputs = [Path(f"{prefix}{k}.txt") for k in range(threads)]
            deadline = time.monotonic() + timeout_s + 10
            while wrk.poll() is None and time.monotonic() < deadline:
                if all(_finished(output) for output in outputs):
                    break
                time.sleep(0.02)
            # wrk sleeps out its whole --duration even after every thread has stopped.
            if wrk.poll() is None:
                wrk.send_signal(signal.SIGINT)
            wrk.communicate(timeout=30)
        finally:
            if wrk.poll() is None:
                wrk.kill()
                wrk.wait()
        cpu_after = cpu_now(server_pid)
        result = _summarise(outputs, expected)
    if server_pid is None or not result.requests:
        return result
    server_ms, postgres_ms = cpu_ms_per_request(cpu_before, cpu_after, result.requests)
    return replace(
        result, server_cpu_ms_per_request=server_ms, postgres_cpu_ms_per_request=postgres_ms
    )


CpuSnapshot = tuple[float, dict[int, float]]


def cpu_now(server_pid: int | None) -> CpuSnapshot:
    """CPU seconds used so far by the server's process tree, and by each PostgreSQL process."""
    if server_pid is None:
        return (0.0, {})
    return tree_cpu_seconds(server_pid), postgres_cpu_snapshot()


def cpu_ms_per_request(
    before: CpuSnapshot, after: CpuSnapshot, requests: int
) -> tuple[float, float]:
    """(server, PostgreSQL) CPU milliseconds per request between two snapshots."""
    server_s = after[0] - before[0]
    postgres_s = postgres_cpu_between(before[1], after[1])
    return round(server_s * 1000 / requests, 2), round(postgres_s * 1000 / requests, 2)


def _finished(output: Path) -> bool:
    try:
        text = output.read_text()
    except FileNotFoundError:
        return False
    return "\ndone " in f"\n{text}"


def _summarise(outputs: list[Path], expected: int) -> StormResult:
    statuses: Counter[str] = Counter()
    latencies_ms: list[float] = []
    firsts: list[int] = []
    lasts: list[int] = []
    extras = 0
    for output in outputs:
        if not output.exists():
            continue
        for line in output.read_text().splitlines():
            kind, first, *rest = line.split()
            if kind == "extra":  # a request beyond the tokens: the run is not clean
                extras += 1
                continue
            if kind == "done":
                if int(first) > 0:
                    firsts.append(int(first))
                    lasts.append(int(rest[0]))
                continue
            statuses[kind] += 1
            if int(first) >= 0:  # every answered request, errors too
                latencies_ms.append(int(first) / 1000)
    latencies_ms.sort()
    ok = sum(count for status, count in statuses.items() if status.startswith("2"))
    seconds = (max(lasts) - min(firsts)) / 1e6 if firsts else math.nan
    return StormResult(
        requests=sum(statuses.values()),
        ok=ok,
        # non-2xx answers, requests that never got one, and any sent beyond the tokens
        errors=expected - ok + extras,
        seconds=round(seconds, 3),
        throughput=round(ok / seconds, 1) if seconds else math.nan,
        p50_ms=round(percentile(latencies_ms, 50), 1),
        p90_ms=round(percentile(latencies_ms, 90), 1),
        p99_ms=round(percentile(latencies_ms, 99), 1),
        max_ms=round(latencies_ms[-1], 1) if latencies_ms else math.nan,
        statuses=dict(sorted(statuses.items())),
    )
