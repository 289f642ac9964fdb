"""The live feed under load: 1,000 subscribers of one session (plus 10 sessions of 50) on 2
workers while a join storm of 500 students runs.

Each worker is its own uvicorn process (`--workers 1`, own port), so the bench can read each
one's memory and `/metrics`; subscribers are spread over them round-robin and the storm is
two wrk runs at once, one per worker. Measured:

- commit-to-subscriber latency: the bench LISTENs itself and stamps each NOTIFY as it
  arrives (PostgreSQL sends it at commit); every 10th watched subscriber (both workers alike)
  stamps each message's `id:` line. p50/p99 over every (sampled subscriber, event) pair; all
  1,000 must receive the storm's last event.
- the storm's throughput with and without the subscribers (fresh session each; the pairs
  alternate their order, without-with then with-without, so a drift over the run weighs on
  both sides alike), and the ratio of the medians. Every stream is read as it comes, on
  the servers' own cores (the bench's CPU is reported beside each storm).
- server memory per idle subscriber: both workers' RSS before and after opening them all;
- PostgreSQL connections, sampled through the storm, by application_name;
- 10,000 connect/disconnect cycles: RSS, asyncio tasks and subscribers after, vs before.

    .venv/bin/python -m bench.feed --subscribers 1000 --students 500
"""

import argparse
import asyncio
import json
import os
import re
import select
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import httpx
import psycopg2
import uvloop
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from app.models.event import FEED_CHANNEL
from app.models.user import UserRole
from bench import seed
from bench.load import StormResult, percentile, storm
from bench.processes import (
    HOST,
    ApiSecrets,
    ProcessGroup,
    Service,
    add_run_arguments,
    api_env,
    free_port,
    start_uvicorn,
    tree_cpu_seconds,
)

JOIN_PATH = "/api/v1/sessions/join-by-code"
DEFAULT_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/tutorium_bench_feed"
BENCH_APP_NAME = "tutorium-bench-feed"
MESSAGE_ID = re.compile(rb"^id: (\d+)$", re.MULTILINE)
# Every this-many-th watched subscriber stamps each message it reads (the latency sample);
# the others only note the last id of each read. Parsing every message of 1,000 streams cost
# the bench, on the servers' own two cores, more CPU than the servers' fan-out.
TIMED_EVERY = 10
TARGET_P99_MS = 1000.0
TARGET_RATIO = 0.9


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000, help="on the watched session")
    parser.add_argument("--small-sessions", type=int, default=10)
    parser.add_argument("--small-subscribers", type=int, default=50, help="per small session")
    parser.add_argument("--students", type=int, default=500, help="joins per storm")
    parser.add_argument("--concurrency", type=int, default=50, help="storm connections")
    parser.add_argument("--repeats", type=int, default=8, help="storm pairs")
    parser.add_argument("--cycles", type=int, default=10_000, help="connect/disconnect cycles")
    parser.add_argument("--cycle-concurrency", type=int, default=50)
    add_run_arguments(parser, pool_size=None, max_overflow=None)
    parser.set_defaults(database_url=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL)
    return parser.parse_args(argv)


# --- the servers -------------------------------------------------------------------------


def worker_pid(service: Service) -> int:
    """uvicorn --workers 1 still forks: the app runs in the master's only child."""
    children = Path(f"/proc/{service.pid}/task/{service.pid}/children").read_text().split()
    return int(children[0]) if children else service.pid


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def gauges(url: str) -> dict[str, float]:
    wanted = ("tutorium_feed_subscribers", "tutorium_event_loop_tasks")
    values: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        name, _, value = line.partition(" ")
        if name in wanted:
            values[name] = float(value)
    return values


def state(workers: list[tuple[Service, str]]) -> dict[str, float]:
    """Summed over the workers: RSS (MB), open subscribers, asyncio tasks."""
    total = {"rss_mb": 0.0, "subscribers": 0.0, "tasks": 0.0}
    for service, url in workers:
        total["rss_mb"] += rss_mb(worker_pid(service))
        values = gauges(url)
        total["subscribers"] += values.get("tutorium_feed_subscribers", 0)
        total["tasks"] += values.get("tutorium_event_loop_tasks", 0)
    return {key: round(value, 1) for key, value in total.items()}


def servers_cpu(workers: list[tuple[Service, str]]) -> float:
    return sum(tree_cpu_seconds(service.pid) for service, _ in workers)


def wait_idle(workers: list[tuple[Service, str]], timeout: float = 60) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        now = state(workers)
        if now["subscribers"] == 0 or time.monotonic() > deadline:
            return now
        time.sleep(0.5)


# --- PostgreSQL: NOTIFY stamps and connection counts -----------------------------------------


class NotifyClock:
    """When each NOTIFY reached the bench: the commit time, give or take a loopback hop."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self._connection = psycopg2.connect(
            host=url.host, port=url.port, user=url.username, dbname=url.database,
            application_name=BENCH_APP_NAME,
        )  # fmt: skip
        self._connection.autocommit = True
        self._connection.cursor().execute(f"LISTEN {FEED_CHANNEL}")
        self.stamps: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            select.select([self._connection], [], [], 0.2)
            self._connection.poll()
            now = time.monotonic()
            for notify in self._connection.notifies:
                session, _, position = notify.payload.partition(" ")
                self.stamps[(session, int(position))] = now
            self._connection.notifies.clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._connection.close()


@contextmanager
def connection_sampler(database_url: str) -> Iterator[dict[str, int]]:
    """The most connections to the bench database seen at once, by application_name."""
    peak: dict[str, int] = {}
    stop = threading.Event()
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    query = text(
        "SELECT coalesce(nullif(application_name, ''), 'pool'), count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name <> :bench"
        " AND pid <> pg_backend_pid() GROUP BY 1"
    )

    def sample() -> None:
        with engine.connect() as connection:
            while not stop.is_set():
                rows = dict(connection.execute(query, {"bench": BENCH_APP_NAME}).all())
                connection.rollback()
                if sum(rows.values()) > sum(peak.values()):
                    peak.clear()
                    peak.update(rows)
                stop.wait(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join(5)
        engine.dispose()


# --- subscribers -------------------------------------------------------------------------


class _FeedProtocol(asyncio.Protocol):
    """Reads one stream in `data_received` callbacks: no task and no await per chunk."""

    def __init__(self, subscriber: "Subscriber") -> None:
        self.subscriber = subscriber
        self.pending = b""
        self.status_seen = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but they write.
        cast(asyncio.WriteTransport, transport).write(self.subscriber.request)

    def data_received(self, data: bytes) -> None:
        at = time.monotonic()
        text, _, self.pending = (self.pending + data).rpartition(b"\n")
        subscriber = self.subscriber
        if not self.status_seen:
            self.status_seen = True
            if b" 200 " not in text.partition(b"\n")[0]:
                subscriber.failed.set_exception(RuntimeError(f"feed answered {text[:60]!r}"))
                return
        if subscriber.timed:
            subscriber.received.extend((int(found), at) for found in MESSAGE_ID.findall(text))
            if subscriber.received:
                subscriber.last_id = subscriber.received[-1][0]
        else:
            subscriber.last_id = _last_id(text, subscriber.last_id)
        if not subscriber.snapshot.is_set() and b"event: snapshot" in text:
            subscriber.snapshot.set()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.subscriber.failed.done():
            self.subscriber.failed.set_result(None)


def _last_id(text: bytes, previous: int) -> int:
    """The last `id:` line of `text` (whole lines), else `previous`."""
    at = text.rfind(b"\nid: ")
    if at < 0:
        if not text.startswith(b"id: "):
            return previous
        at = -1
    end = text.find(b"\n", at + 5)
    return int(text[at + 5 : end if end >= 0 else None])


class Subscriber:
    """One raw HTTP/1.1 stream read by a bare protocol: the cheapest client, so the bench,
    which shares the servers' two cores, measures the servers and not itself. (The browsers
    it stands in for run elsewhere; the bench's own CPU is reported beside each storm.)"""

    def __init__(self, url: str, session_id: str, token: str, *, timed: bool = False) -> None:
        self.timed = timed
        self.last_id = 0
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.request = (
            f"GET /api/v1/sessions/{session_id}/feed HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
        self.received: list[tuple[int, float]] = []
        self.snapshot = asyncio.Event()
        self.failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.BaseTransport | None = None

    def start(self) -> None:
        async def connect() -> None:
            loop = asyncio.get_running_loop()
            self.transport, _ = await loop.create_connection(
                lambda: _FeedProtocol(self), self.host, self.port
            )

        task = asyncio.ensure_future(connect())
        task.add_done_callback(self._connected)

    def _connected(self, task: "asyncio.Future[None]") -> None:
        if task.exception() is not None and not self.failed.done():
            self.failed.set_exception(task.exception())  # type: ignore[arg-type]

    async def wait_snapshot(self) -> None:
        """The snapshot, or the failure that stopped it (a refused status, a lost stream)."""
        snapshot: asyncio.Future[Any] = asyncio.ensure_future(self.snapshot.wait())
        either: set[asyncio.Future[Any]] = {snapshot, self.failed}
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            snapshot.cancel()
        if not self.snapshot.is_set():
            self.failed.result()  # raises what stopped it
            raise RuntimeError("feed closed before its snapshot")

    async def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        await asyncio.sleep(0)


async def open_subscribers(
    urls: list[str],
    session_ids: list[str],
    token: str,
    per_session: list[int],
    *,
    timed_every: int = 0,
) -> list[Subscriber]:
    opened: list[Subscriber] = []
    for session_id, count in zip(session_ids, per_session, strict=True):
        for n in range(count):
            # spread over the workers: subscribers go to them round-robin
            timed = bool(timed_every) and (n // len(urls)) % timed_every == 0
            subscriber = Subscriber(urls[n % len(urls)], session_id, token, timed=timed)
            subscriber.start()
            opened.append(subscriber)
            if len(opened) % 50 == 0:  # open in waves: each opening is a request
                async with asyncio.timeout(120):
                    await asyncio.gather(*(s.wait_snapshot() for s in opened[-50:]))
    async with asyncio.timeout(120):
        await asyncio.gather(*(s.wait_snapshot() for s in opened))
    return opened


async def cycles(urls: list[str], session_id: str, token: str, count: int, width: int) -> float:
    """`count` times: open a feed, read its snapshot, hang up. Returns the seconds taken."""
    started = time.monotonic()
    done = 0
    lock = asyncio.Lock()

    async def one_lane(lane: int) -> None:
        nonlocal done
        while True:
            async with lock:
                if done >= count:
                    return
                done += 1
            subscriber = Subscriber(urls[(done + lane) % len(urls)], session_id, token)
            subscriber.start()
            async with asyncio.timeout(30):
                await subscriber.wait_snapshot()
            await subscriber.close()

    await asyncio.gather(*(one_lane(lane) for lane in range(width)))
    return time.monotonic() - started


# --- the storm -----------------------------------------------------------------------------


def two_storms(
    urls: list[str], code: str, token_files: list[Path], concurrency: int
) -> dict[str, Any]:
    """One wrk per worker at once; throughput = all joins / the longer run."""
    with ThreadPoolExecutor(len(urls)) as pool:
        runs: list[StormResult] = list(
            pool.map(
                lambda pair: storm(
                    pair[0],
                    JOIN_PATH,
                    {"room_code": code},
                    pair[1],
                    concurrency=max(1, concurrency // len(urls)),
                ),
                zip(urls, token_files, strict=True),
            )
        )
    ok = sum(run.ok for run in runs)
    seconds = max(run.seconds for run in runs)
    return {
        "ok": ok,
        "errors": sum(run.errors for run in runs),
        "seconds": seconds,
        "throughput": round(ok / seconds, 1),
        "p99_ms": max(run.p99_ms for run in runs),
    }


def latencies_ms(subscribers: list[Subscriber], session_id: str, clock: NotifyClock) -> list[float]:
    values = []
    for subscriber in subscribers:
        for position, at in subscriber.received:  # the timed ones only
            committed = clock.stamps.get((session_id, position))
            if committed is not None:
                values.append(max(0.0, (at - committed) * 1000))
    return sorted(values)


async def wait_delivered(subscribers: list[Subscriber], last: int, within_s: float = 120) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if all(s.last_id >= last for s in subscribers):
            return
        await asyncio.sleep(0.2)


def bench_engine(database_url: str) -> Engine:
    """The bench's own reads, named so the connection sampler leaves them out: one ran
    right after a storm, inside the sampled window, and counted as the servers' 21st."""
    return create_engine(database_url, connect_args={"application_name": BENCH_APP_NAME})


def last_position(database_url: str, session_id: str) -> int:
    engine = bench_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT last_event_position FROM sessions WHERE id = :s"),
                    {"s": session_id},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def session_ids_by_code(database_url: str, codes: list[str]) -> list[str]:
    engine = bench_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = dict(
                connection.execute(
                    text("SELECT room_code, id FROM sessions WHERE room_code = ANY(:codes)"),
                    {"codes": codes},
                ).all()
            )
    finally:
        engine.dispose()
    return [str(rows[code]) for code in codes]


# --- the run --------------------------------------------------------------------------------


async def measure(
    args: argparse.Namespace,
    workers: list[tuple[Service, str]],
    codes: list[str],
    ids: list[str],
    teacher_token: str,
    token_files: list[Path],
) -> dict[str, Any]:
    urls = [url for _, url in workers]
    loop = asyncio.get_running_loop()
    warm, small = codes[0], ids[-args.small_sessions :]
    pairs = [(codes[1 + 2 * r], codes[2 + 2 * r], ids[2 + 2 * r]) for r in range(args.repeats)]

    def storm_of(code: str) -> dict[str, Any]:
        """One storm, with the CPU seconds the API workers and this bench spent during it:
        the bench's 1,500 streams share the servers' cores, so its share is shown apart."""
        servers_before, bench_before = servers_cpu(workers), time.process_time()
        result = two_storms(urls, code, token_files, args.concurrency)
        result["cpu_seconds"] = {
            "api_workers": round(servers_cpu(workers) - servers_before, 2),
            "bench_subscribers": round(time.process_time() - bench_before, 2),
        }
        return result

    await loop.run_in_executor(None, storm_of, warm)
    idle = state(workers)
    report: dict[str, Any] = {"idle_before": idle, "storms": []}
    clock = NotifyClock(args.database_url)
    try:
        for k, (without_code, with_code, with_id) in enumerate(pairs):
            if k % 2 == 0:
                without = await loop.run_in_executor(None, storm_of, without_code)
            watched = await open_subscribers(
                urls, [with_id], teacher_token, [args.subscribers], timed_every=TIMED_EVERY
            )
            others = await open_subscribers(
                urls, small, teacher_token, [args.small_subscribers] * len(small)
            )
            opened = state(workers)
            with connection_sampler(args.database_url) as peak:
                during = await loop.run_in_executor(None, storm_of, with_code)
                last = last_position(args.database_url, with_id)
                await wait_delivered(watched, last)
            latency = latencies_ms(watched, with_id, clock)
            complete = sum(1 for s in watched if s.last_id >= last)
            await asyncio.gather(*(s.close() for s in watched + others))
            after = wait_idle(workers)
            if k % 2 == 1:
                without = await loop.run_in_executor(None, storm_of, without_code)
            report["storms"].append(
                {
                    "without_subscribers": without,
                    "with_subscribers": during,
                    "order": "without, with" if k % 2 == 0 else "with, without",
                    "subscribers_open": len(watched) + len(others),
                    "watched_subscribers_complete": complete,
                    "rss_mb_opened": opened["rss_mb"],
                    "rss_mb_before_opening": idle["rss_mb"],
                    "latency_samples": len(latency),
                    "latency_p50_ms": round(percentile(latency, 50), 1),
                    "latency_p99_ms": round(percentile(latency, 99), 1),
                    "latency_max_ms": round(latency[-1], 1) if latency else None,
                    "postgres_connections_peak": dict(peak),
                    "after_closing": after,
                }
            )
            print(f"  storm pair: {json.dumps(report['storms'][-1])}", flush=True)
            idle = after
    finally:
        clock.close()
    cycle_session = ids[2]
    await cycles(urls, cycle_session, teacher_token, min(500, args.cycles), args.cycle_concurrency)
    before = wait_idle(workers)
    seconds = await cycles(urls, cycle_session, teacher_token, args.cycles, args.cycle_concurrency)
    await asyncio.sleep(3)
    report["cycles"] = {
        "count": args.cycles,
        "seconds": round(seconds, 1),
        "before": before,
        "after": wait_idle(workers),
    }
    return report


def verdict(report: dict[str, Any], args: argparse.Namespace, pool_size: int) -> list[str]:
    misses = []
    storms = report["storms"]
    p99 = statistics.median(s["latency_p99_ms"] for s in storms)
    ratio = statistics.median(s["with_subscribers"]["throughput"] for s in storms) / (
        statistics.median(s["without_subscribers"]["throughput"] for s in storms)
    )
    report["latency_p99_ms_median"] = p99
    report["storm_ratio"] = round(ratio, 3)
    # The first opening only: later ones reuse the memory the first one left to the allocator.
    first = storms[0]
    report["kb_per_idle_subscriber"] = round(
        (first["rss_mb_opened"] - first["rss_mb_before_opening"])
        * 1024
        / first["subscribers_open"],
        1,
    )
    allowed = args.workers * (pool_size + 1)
    peak = max(sum(s["postgres_connections_peak"].values()) for s in storms)
    report["postgres_connections_allowed"] = allowed
    if p99 > TARGET_P99_MS:
        misses.append(f"latency p99 {p99} ms > {TARGET_P99_MS}")
    if ratio < TARGET_RATIO:
        misses.append(f"storm ratio {ratio:.2f} < {TARGET_RATIO}")
    if peak > allowed:
        misses.append(f"{peak} PostgreSQL connections > {allowed}")
    if any(s["watched_subscribers_complete"] != args.subscribers for s in storms):
        misses.append("a watched subscriber missed the storm's last event")
    cycles_run = report["cycles"]
    if (
        cycles_run["after"]["subscribers"]
        or cycles_run["after"]["tasks"] > cycles_run["before"]["tasks"]
    ):
        misses.append("connect/disconnect cycles left subscribers or tasks behind")
    return misses


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    api_secrets = ApiSecrets.generate()
    emulator_port = free_port()
    daily_url = f"http://{HOST}:{emulator_port}"
    storm_sessions = 1 + 2 * args.repeats

    print(f"bench: database {args.database_url.rsplit('/', 1)[-1]}: recreate, migrate, seed")
    seed.recreate_and_migrate(args.database_url)
    settings = seed.token_settings(args.database_url, api_secrets.secret_key)
    engine = create_engine(args.database_url)
    seed.allow_seats(engine, args.students)
    cohort = seed.seed_users(engine, args.students)
    codes = seed.seed_sessions(
        engine, cohort.teacher_id, count=storm_sessions + args.small_sessions,
        seats=max(args.students, 1), room_base_url=daily_url,
    )  # fmt: skip
    engine.dispose()
    ids = session_ids_by_code(args.database_url, codes)
    halves = [cohort.student_ids[k :: args.workers] for k in range(args.workers)]
    token_files = [
        seed.write_tokens(args.out / f"feed-tokens-{k}.txt", settings, half, UserRole.STUDENT)
        for k, half in enumerate(halves)
    ]
    teacher_file = seed.write_tokens(
        args.out / "feed-teacher.txt", settings, [cohort.teacher_id], UserRole.TEACHER
    )
    teacher_token = teacher_file.read_text().strip()
    env = api_env(
        args.database_url, f"{daily_url}/v1", api_secrets,
        pool_size=args.pool_size, max_overflow=args.max_overflow,
    )  # fmt: skip
    env["DAILY_TOKEN_MODE"] = "self_signed"  # noqa: S105 (a mode, not a secret)
    pool_size = args.pool_size or 10  # the app's default

    with ProcessGroup() as group:
        emulator_command = [
            sys.executable, "-m", "devtools.daily_emulator", "--host", HOST,
            "--port", str(emulator_port),
        ]  # fmt: skip
        emulator_env = {
            **os.environ,
            "DAILY_EMULATOR_API_KEY": api_secrets.daily_api_key,
            "DAILY_EMULATOR_WEBHOOK_SECRET": api_secrets.daily_webhook_secret,
        }
        emulator = Service("daily-emulator", emulator_command, emulator_env, args.out / "emu.log")
        group.start(emulator).wait_http(f"{daily_url}/_emulator/requests")
        workers = [
            start_uvicorn(group, f"feed-api-{k}", "app.main:app", env, workers=1, log_dir=args.out)
            for k in range(args.workers)
        ]
        # uvloop, as the servers use: the bench's reads cost less of the cores they share.
        report = uvloop.run(measure(args, workers, codes, ids, teacher_token, token_files))

    misses = verdict(report, args, pool_size)
    report.update(
        subscribers=args.subscribers,
        small_sessions=args.small_sessions,
        small_subscribers=args.small_subscribers,
        students=args.students,
        workers=args.workers,
        run=str(uuid.uuid4())[:8],
        targets_missed=misses,
    )
    (args.out / "feed.json").write_text(json.dumps(report, indent=2))
    print(
        f"bench feed: latency p99 {report['latency_p99_ms_median']} ms, storm ratio"
        f" {report['storm_ratio']}, {report['kb_per_idle_subscriber']} kB per idle subscriber,"
        f" connections peak {[s['postgres_connections_peak'] for s in report['storms']]}"
        f" (allowed {report['postgres_connections_allowed']}), cycles {report['cycles']}"
    )
    print("bench feed: targets met" if not misses else f"bench feed: MISSED: {'; '.join(misses)}")
    print(f"bench: details in {args.out / 'feed.json'}")
    return 1 if misses and not args.no_check else 0


if __name__ == "__main__":
    sys.exit(main())
