"""What two API hosts share must stay one: rate limits (Redis), webhook deduplication and
the live feed (PostgreSQL), and the client's real address (X-Forwarded-For from HAProxy)."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import httpx
from jose import jwt
from sqlalchemy import text

from tests.e2e.feed_client import FeedSubscriber
from tests.scale.district import District
from tests.scale.topology import CLIENT_IPS
from tests.webhook_signing import RoomEvents, compact, signed_headers

JOIN = "/api/v1/sessions/join-by-code"
CODE_LIMIT = 10  # RATE_LIMIT_JOIN_CODE's default, 10/minute: wrong codes per address


def _client_from(address: str, base_url: str) -> httpx.Client:
    """A client whose connections leave from `address`: a student's machine, as HAProxy sees it."""
    return httpx.Client(
        base_url=base_url, timeout=15, transport=httpx.HTTPTransport(local_address=address)
    )


def _guess(client: httpx.Client, token: str, forged: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    if forged:
        headers["X-Forwarded-For"] = forged
    wrong = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(8))
    return client.post(JOIN, json={"room_code": wrong}, headers=headers).status_code


def _statuses_by_host(district: District) -> dict[str, dict[str, float]]:
    """Per host, join-by-code answers by status, from its own /metrics."""
    counts: dict[str, dict[str, float]] = {}
    for name, host in district.hosts.items():
        lines = httpx.get(f"{host.url}/metrics", timeout=10).text.splitlines()
        counts[name] = {}
        for line in lines:
            if line.startswith("tutorium_http_requests_total") and "join-by-code" in line:
                status = line.split('status="', 1)[1].split('"', 1)[0]
                counts[name][status] = counts[name].get(status, 0) + float(line.rsplit(" ", 1)[1])
    return counts


def test_a_code_guesser_spread_over_both_hosts_is_stopped_at_one_hosts_count(
    district: District,
) -> None:
    _, tokens = district.teacher_and_students(2 * CODE_LIMIT + 4)
    before = _statuses_by_host(district)
    guesser, other = CLIENT_IPS
    # A different account each time: only the address's count can stop them. Each guess
    # carries a forged X-Forwarded-For, which HAProxy appends to, so uvicorn still sees `guesser`.
    with _client_from(guesser, district.lb_url) as client:
        answers = [_guess(client, tokens[n], forged=f"192.0.2.{n}") for n in range(CODE_LIMIT + 2)]
    assert answers == [404] * CODE_LIMIT + [429, 429]
    after = _statuses_by_host(district)
    for name in district.hosts:  # both hosts answered some of the 404s
        assert after[name].get("404", 0) > before[name].get("404", 0), (before, after)

    # Another address is not stopped: the limit keyed on the student's address, not HAProxy's.
    with _client_from(other, district.lb_url) as client:
        assert _guess(client, tokens[CODE_LIMIT + 2]) == 404
    # Straight to a host, not through the balancer: X-Forwarded-For is not believed.
    with _client_from(other, district.hosts["a"].url) as client:
        forged = [
            _guess(client, tokens[CODE_LIMIT + 3 + n], forged=f"198.51.100.{n}")
            for n in range(CODE_LIMIT)
        ]
    assert forged == [404] * (CODE_LIMIT - 1) + [429]


def test_one_webhook_delivered_to_both_hosts_counts_once(district: District) -> None:
    teacher, _ = district.teacher_and_students(0)
    session = district.create_session(teacher, 5)
    event = RoomEvents(session["room_name"]).meeting_started(1_700_000_000)
    body = compact(event)

    def deliver(host: str) -> httpx.Response:
        headers = signed_headers(body, secret=district.webhook_secret)
        url = f"{district.hosts[host].url}/api/v1/webhooks/daily"
        return httpx.post(url, content=body, headers=headers, timeout=15)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(deliver, ["a", "b", "a", "b"]))
    assert [a.status_code for a in answers] == [200] * 4
    assert sorted(a.json()["status"] for a in answers) == ["duplicate"] * 3 + ["processed"]
    with district.engine.connect() as db:
        recorded = db.execute(
            text("SELECT count(*) FROM session_events WHERE external_id = :id"),
            {"id": event["id"]},
        ).scalar_one()
    assert recorded == 1


def test_a_feed_on_host_a_gets_every_join_made_through_host_b_in_order(
    district: District,
) -> None:
    students = 12
    teacher, tokens = district.teacher_and_students(students)
    session = district.create_session(teacher, students)
    feed = FeedSubscriber(
        district.hosts["a"].url,
        f"/api/v1/sessions/{session['id']}/feed",
        headers={"Authorization": f"Bearer {teacher}"},
    )
    try:
        feed.wait_count("snapshot", 1)
        with httpx.Client(base_url=district.hosts["b"].url, timeout=15) as host_b:
            for token in tokens:
                joined = host_b.post(
                    JOIN,
                    json={"room_code": session["room_code"]},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert joined.status_code == 200, joined.text
        seated = feed.wait_count("participant.seated", students, timeout=30)
    finally:
        feed.close()
    seated = [m for m in seated if m.event == "participant.seated"]
    with district.engine.connect() as db:
        logged = [
            position
            for (position,) in db.execute(
                text(
                    "SELECT position FROM session_events WHERE session_id = :s"
                    " AND type = 'participant.seated' ORDER BY position"
                ),
                {"s": session["id"]},
            )
        ]
    assert [m.id for m in seated] == logged
    student_ids = [jwt.get_unverified_claims(token)["sub"] for token in tokens]
    assert [m.data["user_id"] for m in seated] == student_ids  # joined one by one: this order
