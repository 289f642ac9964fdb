"""README's Swagger walkthrough over real HTTP against `make run` (used by run.sh).

`first`: register a teacher and a student, create a session, join by code, enter the room via
the emulator and wait until attendance shows the student present. `second`: the teacher's
session is still listed, i.e. a second `make run` kept the data.
"""

import sys
import time

import httpx

PASSWORD = "correct horse battery"  # noqa: S105 (the README's example)
api = httpx.Client(base_url="http://127.0.0.1:8000/api/v1", timeout=20)
emulator = httpx.Client(base_url="http://127.0.0.1:8787", timeout=20)


def sign_in(email: str) -> dict[str, str]:
    answer = api.post("/auth/login", data={"username": email, "password": PASSWORD})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def first_run() -> None:
    for name, role in (("ada", "teacher"), ("bob", "student")):
        body = {"email": f"{name}@example.com", "password": PASSWORD, "full_name": name.title()}
        api.post("/auth/register", json={**body, "role": role}).raise_for_status()
    teacher, student = sign_in("ada@example.com"), sign_in("bob@example.com")
    created = api.post("/sessions", json={"title": "Algebra"}, headers=teacher)
    created.raise_for_status()
    session = created.json()
    code = session["room_code"].lower().replace("-", " ")
    joined = api.post("/sessions/join-by-code", json={"room_code": code}, headers=student)
    joined.raise_for_status()
    join = joined.json()
    emulator.post(
        f"/_emulator/rooms/{join['room_name']}/join", json={"token": join["token"]}
    ).raise_for_status()
    for _ in range(150):
        rows = api.get(f"/sessions/{session['id']}/attendance", headers=teacher).json()["items"]
        if any(row["full_name"] == "Bob" and row["present_now"] for row in rows):
            print("walkthrough: registered, created, joined by code, entered; Bob present")
            return
        time.sleep(0.2)
    sys.exit("walkthrough: attendance never showed the student present")


def second_run() -> None:
    total = api.get("/sessions", headers=sign_in("ada@example.com")).json()["total"]
    print(f"walkthrough: second run still lists {total} session(s)")
    if total != 1:
        sys.exit("walkthrough: the first run's data is gone")


if __name__ == "__main__":
    first_run() if sys.argv[1] == "first" else second_run()
