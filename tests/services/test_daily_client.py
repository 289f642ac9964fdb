import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
import respx

from app.services.daily.client import (
    ROOM_DELETE_INTERVAL_SECONDS,
    DailyAPIError,
    DailyClient,
    DailyRoom,
    DailyUnavailableError,
    build_http_client,
)
from tests.services.conftest import API_KEY, FakeClock, make_settings, room_body

ROOM = "tutorium-5f0c6b1e-7c1a-4a53-9d55-3b7f2c8d9e10"
EXPIRES = datetime(2030, 1, 1, 12, 0, 30, tzinfo=UTC)
EXP = int(EXPIRES.timestamp())


def sent_json(route: respx.Route, call: int = -1) -> object:
    return json.loads(route.calls[call].request.content)


def daily_error(status: int, error: str, info: str | None = None, **kw: object) -> httpx.Response:
    body = {"error": error} if info is None else {"error": error, "info": info}
    return httpx.Response(status, json=body, **kw)


# -- request shapes --------------------------------------------------------------------------


def test_create_room_sends_a_private_room_with_int_exp_and_bearer_key(
    daily: DailyClient, daily_mock
):
    route = daily_mock.post("/rooms").respond(json=room_body(ROOM, max_participants=6, exp=EXP))

    room = daily.create_room(name=ROOM, max_participants=6, expires_at=EXPIRES)

    assert sent_json(route) == {
        "name": ROOM,
        "privacy": "private",
        "properties": {
            "enable_screenshare": True,
            "max_participants": 6,
            "exp": EXP,
            "eject_at_room_exp": True,
            "enable_knocking": False,
            "enforce_unique_user_ids": True,
            "permissions": {"canSend": ["video", "audio"]},
        },
    }
    request = route.calls[0].request
    assert str(request.url) == "https://api.daily.co/v1/rooms"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert room == DailyRoom(
        name=ROOM,
        url=f"https://tutorium.daily.co/{ROOM}",
        privacy="private",
        config={"max_participants": 6, "exp": EXP},
        id=f"id-{ROOM}",
        created_at="2030-01-01T10:00:00.000Z",
    )
    assert room.expires_at == EXPIRES.replace(microsecond=0)


def test_update_room_sends_only_the_given_properties(daily: DailyClient, daily_mock):
    route = daily_mock.post(f"/rooms/{ROOM}").respond(json=room_body(ROOM, max_participants=3))

    daily.update_room(ROOM, max_participants=3)
    daily.update_room(ROOM, expires_at=EXPIRES)

    assert sent_json(route, 0) == {"properties": {"max_participants": 3}}
    assert sent_json(route, 1) == {"properties": {"exp": EXP}}


def test_eject_sends_user_ids_and_ban(daily: DailyClient, daily_mock):
    route = daily_mock.post(f"/rooms/{ROOM}/eject").respond(json={"ejectedIds": ["p-1"]})

    assert daily.eject(ROOM, user_ids=["u-1"], ban=True) == ["p-1"]
    assert sent_json(route) == {"user_ids": ["u-1"], "ban": True}


def test_eject_batches_by_100_and_never_sends_an_empty_list(daily: DailyClient, daily_mock):
    route = daily_mock.post(f"/rooms/{ROOM}/eject").mock(
        side_effect=lambda request: httpx.Response(
            200, json={"ejectedIds": json.loads(request.content)["user_ids"]}
        )
    )
    user_ids = [f"u-{n}" for n in range(250)]

    assert daily.eject(ROOM, user_ids=user_ids, ban=False) == user_ids
    assert [len(sent_json(route, n)["user_ids"]) for n in range(3)] == [100, 100, 50]
    assert all("ban" not in sent_json(route, n) for n in range(3))
    assert daily.eject(ROOM, user_ids=[], ban=True) == []
    assert route.call_count == 3


def test_eject_from_a_gone_room_is_success(daily: DailyClient, daily_mock):
    """Room deleted or expired: nobody can be in it (daily-api.md §10 leaves this open)."""
    daily_mock.post(f"/rooms/{ROOM}/eject").respond(404, json={"error": "not-found"})
    assert daily.eject(ROOM, user_ids=["u-1"], ban=True) == []


def test_room_deletes_are_paced(daily: DailyClient, daily_mock, clock: FakeClock):
    daily_mock.delete(f"/rooms/{ROOM}").respond(json={"deleted": True, "name": ROOM})
    for _ in range(3):
        daily.delete_room(ROOM)
    assert clock.sleeps == [pytest.approx(ROOM_DELETE_INTERVAL_SECONDS)] * 2
    assert ROOM_DELETE_INTERVAL_SECONDS >= 30 / 50  # Daily: 50 deletes per 30 s


def test_meetings_and_their_participants_are_paged_to_the_end(daily: DailyClient, daily_mock):
    meetings = daily_mock.get("/meetings").mock(
        side_effect=[
            httpx.Response(200, json={"total_count": 2, "data": [{"id": "m-2"}, {"id": "m-1"}]}),
            httpx.Response(200, json={"total_count": 2, "data": []}),
        ]
    )
    person = {"participant_id": "p-1", "user_id": "u", "join_time": 1_900_000_000, "duration": 61}
    people = daily_mock.get("/meetings/m-1/participants").mock(
        side_effect=[
            httpx.Response(200, json={"data": [person]}),
            httpx.Response(200, json={"data": []}),
        ]
    )

    since = datetime(2030, 1, 1, tzinfo=UTC)
    assert [m["id"] for m in daily.iter_meetings(ROOM, started_after=since)] == ["m-2", "m-1"]
    assert meetings.calls[0].request.url.params["room"] == ROOM
    assert meetings.calls[0].request.url.params["timeframe_start"] == str(int(since.timestamp()))
    assert meetings.calls[1].request.url.params["starting_after"] == "m-1"
    (attended,) = daily.iter_meeting_participants("m-1")
    assert (attended.participant_id, attended.user_id, attended.duration_seconds) == (
        "p-1",
        "u",
        61,
    )
    assert attended.join_time == datetime.fromtimestamp(1_900_000_000, UTC)
    assert people.calls[1].request.url.params["joined_after"] == "p-1"


def test_create_meeting_token_posts_properties(daily: DailyClient, daily_mock):
    route = daily_mock.post("/meeting-tokens").respond(json={"token": "jwt-from-daily"})

    assert daily.create_meeting_token({"room_name": ROOM}) == "jwt-from-daily"
    assert sent_json(route) == {"properties": {"room_name": ROOM}}


def test_bad_input_is_refused_before_any_call(daily: DailyClient):
    with pytest.raises(ValueError, match="timezone-aware"):
        daily.create_room(name=ROOM, max_participants=2, expires_at=datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="room names"):
        daily.get_room("../meeting-tokens")


# -- the create-then-GET rule for duplicates ---------------------------------------------------


def test_create_400_then_get_finds_the_room_is_success(daily: DailyClient, daily_mock):
    daily_mock.post("/rooms").mock(
        return_value=daily_error(
            400, "invalid-request-error", f"a room named {ROOM} already exists"
        )
    )
    lookup = daily_mock.get(f"/rooms/{ROOM}").respond(json=room_body(ROOM))

    room = daily.create_room(name=ROOM, max_participants=6, expires_at=EXPIRES)

    assert room.name == ROOM
    assert lookup.call_count == 1


def test_create_retried_after_a_lost_response_finds_its_own_room(daily: DailyClient, daily_mock):
    """The first POST created the room but its answer timed out; the retry sees a duplicate."""
    create = daily_mock.post("/rooms").mock(
        side_effect=[
            httpx.ReadTimeout("lost"),
            daily_error(400, "invalid-request-error", f"a room named {ROOM} already exists"),
        ]
    )
    daily_mock.get(f"/rooms/{ROOM}").respond(json=room_body(ROOM))

    assert daily.create_room(name=ROOM, max_participants=6, expires_at=EXPIRES).name == ROOM
    assert create.call_count == 2


def test_create_400_and_get_404_raises_the_original_rejection(daily: DailyClient, daily_mock):
    info = "exp was '1', which is in the past rather than in the future"
    daily_mock.post("/rooms").mock(return_value=daily_error(400, "invalid-request-error", info))
    daily_mock.get(f"/rooms/{ROOM}").mock(
        return_value=daily_error(404, "not-found", f"room {ROOM} not found")
    )

    with pytest.raises(DailyAPIError) as caught:
        daily.create_room(name=ROOM, max_participants=6, expires_at=EXPIRES)

    error = caught.value
    assert error.status_code == 502
    assert (error.status_code_from_daily, error.error, error.info) == (
        400,
        "invalid-request-error",
        info,
    )
    assert error.message == "The video provider rejected the request (invalid-request-error)."


# -- retries -----------------------------------------------------------------------------------


def test_500_500_200_succeeds_after_retries(daily: DailyClient, daily_mock, clock: FakeClock):
    route = daily_mock.get(f"/rooms/{ROOM}").mock(
        side_effect=[
            httpx.Response(500),
            httpx.Response(503),
            httpx.Response(200, json=room_body(ROOM)),
        ]
    )

    assert daily.get_room(ROOM) is not None
    assert route.call_count == 3
    assert len(clock.sleeps) == 2
    assert clock.sleeps[0] <= clock.sleeps[1]  # exponential: 0.2-0.4 s, then 0.4-0.6 s


def test_500_three_times_is_unavailable_with_retry_after(daily: DailyClient, daily_mock):
    route = daily_mock.delete(f"/rooms/{ROOM}").mock(
        return_value=daily_error(500, "server-error", "boom")
    )

    with pytest.raises(DailyUnavailableError) as caught:
        daily.delete_room(ROOM)

    error = caught.value
    assert route.call_count == 3
    assert error.status_code == 503
    assert error.headers == {"Retry-After": "5"}
    assert (error.status_code_from_daily, error.error, error.info) == (500, "server-error", "boom")


def test_429_retry_after_is_honoured(daily: DailyClient, daily_mock, clock: FakeClock):
    route = daily_mock.get(f"/rooms/{ROOM}").mock(
        side_effect=[
            daily_error(429, "rate-limit-error", headers={"Retry-After": "2"}),
            httpx.Response(200, json=room_body(ROOM)),
        ]
    )

    assert daily.get_room(ROOM) is not None
    assert route.call_count == 2
    assert clock.sleeps == [2.0]


def test_429_retry_after_past_the_budget_gives_up_at_once(
    make_daily: Callable[..., DailyClient], daily_mock, clock: FakeClock
):
    daily = make_daily(daily_retry_budget_seconds=8)
    route = daily_mock.get(f"/rooms/{ROOM}").mock(
        return_value=daily_error(429, "rate-limit-error", headers={"Retry-After": "30"})
    )

    with pytest.raises(DailyUnavailableError) as caught:
        daily.get_room(ROOM)

    assert route.call_count == 1
    assert clock.sleeps == []
    assert caught.value.headers == {"Retry-After": "30"}
    assert caught.value.error == "rate-limit-error"


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
def test_timeouts_and_connection_errors_are_retried_then_unavailable(
    daily: DailyClient, daily_mock, failure: httpx.TransportError
):
    route = daily_mock.post("/meeting-tokens").mock(side_effect=failure)

    with pytest.raises(DailyUnavailableError) as caught:
        daily.create_meeting_token({"room_name": ROOM})

    assert route.call_count == 3
    assert caught.value.status_code == 503
    assert caught.value.status_code_from_daily is None
    assert isinstance(caught.value.__cause__, type(failure))


def test_timeout_then_success(daily: DailyClient, daily_mock):
    route = daily_mock.get(f"/rooms/{ROOM}").mock(
        side_effect=[httpx.ConnectTimeout("slow"), httpx.Response(200, json=room_body(ROOM))]
    )

    assert daily.get_room(ROOM) is not None
    assert route.call_count == 2


@pytest.mark.parametrize("status", [400, 401, 403])
def test_other_4xx_are_not_retried(daily: DailyClient, daily_mock, clock: FakeClock, status: int):
    route = daily_mock.post(f"/rooms/{ROOM}/eject").mock(
        return_value=daily_error(status, "authentication-error")
    )

    with pytest.raises(DailyAPIError) as caught:
        daily.eject(ROOM, user_ids=["u-1"], ban=False)

    assert route.call_count == 1
    assert clock.sleeps == []
    assert caught.value.status_code == 502
    assert caught.value.status_code_from_daily == status
    assert str(caught.value) == "The video provider rejected the request (authentication-error)."


def test_non_json_error_body_still_maps(daily: DailyClient, daily_mock):
    daily_mock.get(f"/rooms/{ROOM}").mock(
        return_value=httpx.Response(502, text="<html>bad gateway")
    )

    with pytest.raises(DailyUnavailableError) as caught:
        daily.get_room(ROOM)

    assert (caught.value.status_code_from_daily, caught.value.error) == (502, None)


# -- the retry budget --------------------------------------------------------------------------


def test_whole_call_stays_within_the_budget(
    make_daily: Callable[..., DailyClient], daily_mock, clock: FakeClock
):
    daily = make_daily(daily_max_attempts=10, daily_retry_budget_seconds=5)
    started = clock.now

    def slow_500(request: httpx.Request) -> httpx.Response:
        """Daily takes 1.5 s to fail, unless the attempt's timeout cuts it off first."""
        timeout = request.extensions["timeout"]
        allowed = timeout["connect"] + timeout["read"]
        if allowed < 1.5:
            clock.advance(allowed)
            raise httpx.ReadTimeout("slow", request=request)
        clock.advance(1.5)
        return httpx.Response(500)

    route = daily_mock.get(f"/rooms/{ROOM}").mock(side_effect=slow_500)

    with pytest.raises(DailyUnavailableError):
        daily.get_room(ROOM)

    assert clock.now - started <= 5
    assert 1 < route.call_count < 10


def test_each_attempt_timeout_is_clamped_to_the_budget_left(
    make_daily: Callable[..., DailyClient], daily_mock
):
    daily = make_daily(
        daily_retry_budget_seconds=4,
        daily_connect_timeout_seconds=3,
        daily_read_timeout_seconds=5,
    )
    route = daily_mock.get(f"/rooms/{ROOM}").respond(json=room_body(ROOM))

    daily.get_room(ROOM)

    timeout = route.calls[0].request.extensions["timeout"]
    assert timeout["connect"] + timeout["read"] == pytest.approx(4)


def test_real_clock_budget_is_respected():
    """No fakes: a small budget with real sleeps must end on time."""
    settings = make_settings(daily_max_attempts=10, daily_retry_budget_seconds=0.6)
    with (
        respx.mock(base_url="https://api.daily.co/v1", assert_all_mocked=True) as router,
        build_http_client(settings) as http,
    ):
        router.get(f"/rooms/{ROOM}").mock(return_value=httpx.Response(500))
        started = time.monotonic()
        with pytest.raises(DailyUnavailableError):
            DailyClient(http, settings).get_room(ROOM)
        assert time.monotonic() - started < 0.6


# -- idempotent reads and deletes, pagination, caching ----------------------------------------


def test_delete_returns_false_on_404_and_true_on_200(daily: DailyClient, daily_mock):
    daily_mock.delete(f"/rooms/{ROOM}").mock(
        side_effect=[
            httpx.Response(200, json={"deleted": True, "name": ROOM}),
            httpx.Response(404, json={"error": "not-found", "deleted": True}),
        ]
    )

    assert daily.delete_room(ROOM) is True
    assert daily.delete_room(ROOM) is False


def test_get_room_404_is_none(daily: DailyClient, daily_mock):
    daily_mock.get(f"/rooms/{ROOM}").mock(return_value=daily_error(404, "not-found"))

    assert daily.get_room(ROOM) is None


def test_iter_rooms_pages_with_starting_after_and_filters_the_prefix(
    daily: DailyClient, daily_mock
):
    pages = {
        None: [room_body("tutorium-a"), room_body("other-app-b"), room_body("tutoriumx-c")],
        "id-tutoriumx-c": [room_body("tutorium-d")],
        "id-tutorium-d": [],
    }

    def page(request: httpx.Request) -> httpx.Response:
        assert request.url.params["limit"] == "100"
        data = pages[request.url.params.get("starting_after")]
        return httpx.Response(200, json={"total_count": 4, "data": data})

    route = daily_mock.get("/rooms").mock(side_effect=page)

    assert [room.name for room in daily.iter_rooms("tutorium")] == ["tutorium-a", "tutorium-d"]
    assert route.call_count == 3


def test_domain_id_is_fetched_once_even_across_threads(daily: DailyClient, daily_mock):
    route = daily_mock.get("/").respond(json={"domain_name": "tutorium", "domain_id": "dom-1"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda _: daily.get_domain_id(), range(16)))

    assert set(ids) == {"dom-1"}
    assert route.call_count == 1
    assert str(route.calls[0].request.url) == "https://api.daily.co/v1/"


# -- secrets, logging, metrics hook ------------------------------------------------------------


def test_the_key_never_reaches_logs_or_exception_text(
    daily: DailyClient, daily_mock, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    daily_mock.get(f"/rooms/{ROOM}").mock(
        return_value=daily_error(401, "authentication-error", f"key {API_KEY} is not valid")
    )
    daily_mock.delete(f"/rooms/{ROOM}").mock(side_effect=httpx.ConnectError(f"oops {API_KEY}"))

    with pytest.raises(DailyAPIError) as rejected:
        daily.get_room(ROOM)
    with pytest.raises(DailyUnavailableError) as unavailable:
        daily.delete_room(ROOM)

    for error in (rejected.value, unavailable.value):
        assert API_KEY not in str(error)
        assert API_KEY not in repr(error)
        assert API_KEY not in (error.info or "")
    assert "Daily GET /rooms/{name} -> 401" in caplog.text
    assert "Daily DELETE /rooms/{name} -> ConnectError" in caplog.text
    assert API_KEY not in caplog.text


def test_on_call_hook_sees_every_attempt(make_daily: Callable[..., DailyClient], daily_mock):
    calls: list[tuple[str, str, int | None, float]] = []
    daily = make_daily(on_call=lambda *call: calls.append(call))
    daily_mock.get(f"/rooms/{ROOM}").mock(
        side_effect=[httpx.ConnectError("x"), httpx.Response(200, json=room_body(ROOM))]
    )

    daily.get_room(ROOM)

    assert [call[:3] for call in calls] == [
        ("GET", "/rooms/{name}", None),
        ("GET", "/rooms/{name}", 200),
    ]


def test_without_a_key_daily_answers_with_its_own_400(daily_mock):
    settings = make_settings(daily_api_key=None)
    daily_mock.get(f"/rooms/{ROOM}").mock(
        return_value=daily_error(400, "authorization-header-error", "bad Authorization header")
    )

    with build_http_client(settings) as http:
        with pytest.raises(DailyAPIError) as caught:
            DailyClient(http, settings).get_room(ROOM)
        assert daily_mock.calls[0].request.headers["Authorization"] == "Bearer"

    assert caught.value.error == "authorization-header-error"
