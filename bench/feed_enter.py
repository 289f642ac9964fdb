"""`make run`'s emulator "enter" of a participant on a teacher's open feed: how long it takes.

Issue 17 promises that entering the room under `make run` shows on the teacher's feed within a
second; the e2e test only checks that it arrives. This bench runs `python -m devtools.run_dev`
itself (what `make run` runs: dev settings, the API, the emulator sending its webhooks to the
API) on free ports, its own database (recreated) and its own DEV_VAR_DIR, so a developer's
`make run` and its emulator state are left alone. Only two things differ from a developer's
`make run`: DAILY_API_KEY is empty (the emulator, whatever `.env` says) and the registration
limit is raised (the bench registers N + 1 accounts from one address; dev allows 20 an hour).

The teacher opens the feed over raw HTTP (bearer header, `Accept: text/event-stream`) and reads
the snapshot; every student joins by code. Then, one student at a time with a pause between,
so each figure is one participant's latency on an idle stack: stamp, POST the emulator's
`/_emulator/rooms/{room}/join` with the student's meeting token (what daily-js's `join()`
does), stamp when the feed shows that student's `participant.joined`; then `/leave` and
`participant.left` likewise. The figure covers the emulator's answer, its webhook to the API,
the API's commit and NOTIFY, and the feed's write. Each student enters an empty room, so the
emulator first sends `meeting.started`, and `participant.joined` then waits out the feed's
FEED_GATHER_SECONDS after that event's read; `--teacher-in-call` measures a running meeting.

    .venv/bin/python -m bench.feed_enter --students 30
"""

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy.engine import make_url

from bench.load import percentile
from bench.processes import HOST, free_port
from devtools.database import drop_database, recreate_database

V1 = "/api/v1"
DEFAULT_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/tutorium_bench_enter"
PASSWORD = "correct horse battery"  # noqa: S105 (the bench's throwaway accounts)
TARGET_MS = 1000.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between two steps")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds to wait for a message")
    parser.add_argument(
        "--teacher-in-call",
        action="store_true",
        help="the teacher enters first, so no student's enter starts the meeting",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL,
        help="recreated by the bench, dropped at the end (BENCH_DATABASE_URL)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    return parser.parse_args(argv)


# --- `make run` ---------------------------------------------------------------------------


class MakeRun:
    """`python -m devtools.run_dev` in its own process group; stopped with SIGINT, as one
    Ctrl-C in a terminal stops `make run`."""

    def __init__(self, database_url: str, out: Path) -> None:
        self.api_url = f"http://{HOST}:{free_port()}"
        self.emulator_url = f"http://{HOST}:{free_port()}"
        self.log = out / "feed-enter-run-dev.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "API_HOST": HOST,
            "API_PORT": self.api_url.rsplit(":", 1)[1],
            "EMULATOR_PORT": self.emulator_url.rsplit(":", 1)[1],
            "DEV_VAR_DIR": str(out / "feed-enter-var"),
            "DAILY_API_KEY": "",
            "RATE_LIMIT_REGISTER": "10000/hour",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "MakeRun":
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "devtools.run_dev"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while "run_dev: API on" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                sys.exit(f"bench: make run did not start; see {self.log}")
            time.sleep(0.2)
        return self

    def __exit__(self, *_: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C: run_dev stops what it started
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


# --- the teacher's feed -------------------------------------------------------------------


class Feed:
    """The teacher's stream, read line by line in a thread; each message is stamped with
    `time.monotonic()` when its blank line arrives, and queued."""

    def __init__(self, api_url: str, session_id: str, token: str) -> None:
        self.messages: queue.Queue[tuple[float, str, Any]] = queue.Queue()
        self._client = httpx.Client(base_url=api_url, timeout=httpx.Timeout(10.0, read=None))
        request = self._client.build_request(
            "GET",
            f"{V1}/sessions/{session_id}/feed",
            headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        )
        self._response = self._client.send(request, stream=True)
        if self._response.status_code != 200:
            sys.exit(f"bench: the feed answered {self._response.status_code}")
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for line in self._response.iter_lines():
                if line == "" and "event" in fields:
                    data = json.loads(fields["data"]) if "data" in fields else None
                    self.messages.put((time.monotonic(), fields["event"], data))
                if line == "":
                    fields.clear()
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except (httpx.HTTPError, RuntimeError):
            pass  # closed below, or by the server

    def wait_for(self, event: str, user_id: str | None, within_s: float) -> float:
        """When `event` (for `user_id`, if given) arrived; others before it are skipped."""
        deadline = time.monotonic() + within_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                at, name, data = self.messages.get(timeout=left)
            except queue.Empty:
                break
            if name == event and (user_id is None or data.get("user_id") == user_id):
                return at
        raise TimeoutError(f"no {event} for {user_id} within {within_s} s")

    def close(self) -> None:
        self._response.close()
        self._client.close()


# --- the class ----------------------------------------------------------------------------


def sign_up(api: httpx.Client, role: str, n: int) -> tuple[str, str]:
    """A new account, logged in: its id and access token."""
    email = f"{role}-{n}-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD, "full_name": f"{role} {n}", "role": role}
    registered = api.post(f"{V1}/auth/register", json=body)
    registered.raise_for_status()
    login = api.post(f"{V1}/auth/login", data={"username": email, "password": PASSWORD})
    login.raise_for_status()
    return registered.json()["id"], login.json()["access_token"]


def meeting_token(join_url: str) -> str:
    return parse_qs(urlsplit(join_url).query)["t"][0]


def measure(args: argparse.Namespace, stack: MakeRun) -> dict[str, list[float]]:
    api = httpx.Client(base_url=stack.api_url, timeout=30)
    emulator = httpx.Client(base_url=stack.emulator_url, timeout=30)
    _, teacher_token = sign_up(api, "teacher", 0)
    teacher = {"Authorization": f"Bearer {teacher_token}"}
    created = api.post(
        f"{V1}/sessions",
        json={"title": "Bench", "max_participants": args.students, "duration_minutes": 180},
        headers=teacher,
    )
    created.raise_for_status()
    session = created.json()
    feed = Feed(stack.api_url, session["id"], teacher_token)
    feed.wait_for("snapshot", None, args.wait)
    students = []
    for n in range(1, args.students + 1):
        student_id, token = sign_up(api, "student", n)
        joined = api.post(
            f"{V1}/sessions/join-by-code",
            json={"room_code": session["room_code"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        joined.raise_for_status()
        students.append((student_id, meeting_token(joined.json()["join_url"])))
        feed.wait_for("participant.seated", student_id, args.wait)
    room = session["room_name"]
    if args.teacher_in_call:
        own = api.post(f"{V1}/sessions/{session['id']}/join", headers=teacher)
        own.raise_for_status()
        entered = emulator.post(
            f"/_emulator/rooms/{room}/join", json={"token": meeting_token(own.json()["join_url"])}
        )
        entered.raise_for_status()
        feed.wait_for("participant.joined", None, args.wait)
    figures: dict[str, list[float]] = {"enter_to_joined_ms": [], "leave_to_left_ms": []}
    try:
        for student_id, token in students:
            time.sleep(args.pause)
            started = time.monotonic()
            entered = emulator.post(f"/_emulator/rooms/{room}/join", json={"token": token})
            entered.raise_for_status()
            shown = feed.wait_for("participant.joined", student_id, args.wait)
            figures["enter_to_joined_ms"].append((shown - started) * 1000)
            time.sleep(args.pause)
            started = time.monotonic()
            left = emulator.post(
                f"/_emulator/rooms/{room}/leave",
                json={"participant_id": entered.json()["participant_id"]},
            )
            left.raise_for_status()
            shown = feed.wait_for("participant.left", student_id, args.wait)
            figures["leave_to_left_ms"].append((shown - started) * 1000)
    finally:
        feed.close()
        api.close()
        emulator.close()
    return figures


def summary(values: list[float]) -> dict[str, float | int]:
    ordered = sorted(values)
    return {
        "samples": len(ordered),
        "p50_ms": round(percentile(ordered, 50), 1),
        "p99_ms": round(percentile(ordered, 99), 1),
        "max_ms": round(ordered[-1], 1) if ordered else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    url = make_url(args.database_url)
    print(f"bench: database {url.database}: recreated; make run starts", flush=True)
    recreate_database(url, "BENCH_DATABASE_URL")
    load_before = os.getloadavg()
    try:
        with MakeRun(args.database_url, args.out) as stack:
            figures = measure(args, stack)
    finally:
        drop_database(url)
    report: dict[str, Any] = {name: summary(values) for name, values in figures.items()}
    report["samples_ms"] = {name: [round(v, 1) for v in vs] for name, vs in figures.items()}
    report["load_average"] = {"before": load_before, "after": os.getloadavg()}
    report["students"] = args.students
    report["teacher_in_call"] = args.teacher_in_call
    misses = [
        f"{name.removesuffix('_ms')} max {report[name]['max_ms']} ms > {TARGET_MS:.0f}"
        for name in figures
        if not report[name]["max_ms"] <= TARGET_MS
    ]
    report["targets_missed"] = misses
    (args.out / "feed_enter.json").write_text(json.dumps(report, indent=2))
    for name in figures:
        print(f"bench feed_enter: {name.removesuffix('_ms')}: {json.dumps(report[name])}")
    load = report["load_average"]
    print(f"bench feed_enter: load average {load['before'][0]:.1f} → {load['after'][0]:.1f}")
    print(
        "bench feed_enter: targets met (every one within 1 s)"
        if not misses
        else f"bench feed_enter: MISSED: {'; '.join(misses)}"
    )
    print(f"bench: details in {args.out / 'feed_enter.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
