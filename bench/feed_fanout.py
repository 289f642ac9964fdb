"""What one write to one feed subscriber costs a worker, in CPU microseconds.

The storm ratio (`bench.feed`) answers the issue's question but swings ±15 % between pairs:
a 500-join storm lasts about two seconds. This isolates the fan-out: one uvicorn worker, a
steady stream of events (inserted by SQL at `--rate` per second, so no request competes),
and the worker's CPU over `--seconds` with `--subscribers` teacher streams open, minus the
same with one stream. Divided by the writes made (each stream gets one per gathering round,
`FeedHub.gather_for`), that is the cost of a write: the wake-up, the ASGI send and the
kernel's. The subscribers read as they come (bench.feed's client).

    .venv/bin/python -m bench.feed_fanout --subscribers 500 --rate 250
"""

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import uvloop
from sqlalchemy import Engine, create_engine, text

from app.core.config import Settings
from app.models.user import UserRole
from app.services.feed.hub import gather_seconds
from bench import seed
from bench.feed import Subscriber, session_ids_by_code
from bench.processes import (
    HOST,
    ApiSecrets,
    ProcessGroup,
    api_env,
    free_port,
    start_uvicorn,
    tree_cpu_seconds,
)

DEFAULT_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/tutorium_bench_fanout"
# About the size of a teacher's participant message.
PAYLOAD = json.dumps({"title": "x" * 70})
INSERT_EVENT = text(
    "INSERT INTO session_events (id, session_id, type, source, payload, occurred_at)"
    " VALUES (:id, :session, 'session.updated', 'api', CAST(:payload AS json), now())"
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--rate", type=float, default=250, help="events per second")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL,
    )
    return parser.parse_args(argv)


def insert_events(engine: Engine, session_id: str, rate: float, seconds: float) -> int:
    """One event per transaction (each commit sends its NOTIFY), paced to `rate`."""
    count = 0
    with engine.connect() as connection:
        started = time.monotonic()
        while time.monotonic() < started + seconds:
            connection.execute(
                INSERT_EVENT, {"id": uuid.uuid4(), "session": session_id, "payload": PAYLOAD}
            )
            connection.commit()
            count += 1
            time.sleep(max(0.0, started + count / rate - time.monotonic()))
    return count


async def worker_cpu_with(
    args: argparse.Namespace, engine: Engine, pid: int, url: str, session_id: str, token: str,
    subscribers: int,
) -> dict[str, Any]:  # fmt: skip
    """The worker's CPU seconds while events flow to `subscribers` open streams."""
    opened = []
    for _ in range(subscribers):
        subscriber = Subscriber(url, session_id, token)
        subscriber.start()
        opened.append(subscriber)
    await asyncio.gather(*(s.wait_snapshot() for s in opened))
    await asyncio.sleep(1)
    loop = asyncio.get_running_loop()
    before = tree_cpu_seconds(pid)
    events = await loop.run_in_executor(
        None, insert_events, engine, session_id, args.rate, args.seconds
    )
    await asyncio.sleep(1)  # the last round's writes
    cpu = tree_cpu_seconds(pid) - before
    delivered = sum(1 for s in opened if s.last_id >= events)
    await asyncio.gather(*(s.close() for s in opened))
    return {
        "subscribers": subscribers,
        "events": events,
        "delivered": delivered,
        "cpu": round(cpu, 3),
    }


async def measure(
    args: argparse.Namespace, settings: Settings, engine: Engine, pid: int, url: str,
    ids: list[str], token: str,
) -> list[dict[str, Any]]:  # fmt: skip
    """The servers' own gathering rule (their settings, this many streams) gives the rounds."""
    round_seconds = gather_seconds(
        args.subscribers,
        least=settings.feed_gather_seconds,
        writes_per_second=settings.feed_session_writes_per_second,
    )
    results = []
    for repeat in range(args.repeats):
        one = await worker_cpu_with(args, engine, pid, url, ids[2 * repeat], token, 1)
        many = await worker_cpu_with(
            args, engine, pid, url, ids[2 * repeat + 1], token, args.subscribers
        )
        writes = (args.subscribers - 1) * args.seconds / round_seconds
        result = {
            "one_stream": one,
            "many_streams": many,
            "us_per_write": round((many["cpu"] - one["cpu"]) / writes * 1e6, 1),
        }
        print(f"  {json.dumps(result)}", flush=True)
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    api_secrets = ApiSecrets.generate()
    seed.recreate_and_migrate(args.database_url)
    settings: Settings = seed.token_settings(args.database_url, api_secrets.secret_key)
    engine = create_engine(args.database_url)
    cohort = seed.seed_users(engine, 1)
    daily_url = f"http://{HOST}:{free_port()}"  # never called: no request reaches Daily here
    codes = seed.seed_sessions(
        engine, cohort.teacher_id, count=2 * args.repeats, seats=2, room_base_url=daily_url
    )
    ids = session_ids_by_code(args.database_url, codes)
    token_file = seed.write_tokens(
        args.out / "fanout-teacher.txt", settings, [cohort.teacher_id], UserRole.TEACHER
    )
    env = api_env(
        args.database_url, f"{daily_url}/v1", api_secrets, pool_size=None, max_overflow=None
    )
    with ProcessGroup() as group:
        service, url = start_uvicorn(
            group, "fanout-api", "app.main:app", env, workers=1, log_dir=args.out
        )
        token = token_file.read_text().strip()
        results = uvloop.run(measure(args, settings, engine, service.pid, url, ids, token))
    engine.dispose()
    median = statistics.median(r["us_per_write"] for r in results)
    complete = all(r["many_streams"]["delivered"] == args.subscribers for r in results)
    print(
        f"bench feed_fanout: {median} us of worker CPU per subscriber write (median of"
        f" {args.repeats}); every stream got every event: {complete}"
    )
    report = {"args": {k: str(v) for k, v in vars(args).items()}, "results": results}
    (args.out / "feed_fanout.json").write_text(json.dumps(report, indent=2))
    return 0 if complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
