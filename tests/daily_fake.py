"""A respx-backed stand-in for Daily's REST API, declared route by route.

It keeps rooms in memory so flows read naturally (create, update, delete), and
every request it answers is recorded for assertions. Anything not declared
here fails the test: `assert_all_mocked=True`.
"""

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

DOMAIN_ID = "9b1f3e4a-2c6d-4f7e-8a9b-0c1d2e3f4a5b"


@dataclass
class FakeDaily:
    router: respx.MockRouter
    rooms: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Daily's recordings by id, in `GET /recordings` shape (tests add them directly).
    recordings: dict[str, dict[str, Any]] = field(default_factory=dict)
    recording_now: set[str] = field(default_factory=set)  # rooms whose recording runs

    def calls(self, method: str, path_prefix: str) -> list[httpx.Request]:
        return [
            call.request
            for call in self.router.calls
            if call.request.method == method
            and call.request.url.path.removeprefix("/v1").startswith(path_prefix)
        ]

    def bodies(self, method: str, path_prefix: str) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.calls(method, path_prefix)]


def _room(name: str, privacy: str, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "api_created": True,
        "privacy": privacy,
        "url": f"https://tutorium.daily.co/{name}",
        "created_at": "2030-01-01T10:00:00.000Z",
        "config": config,
    }


def install(router: respx.MockRouter) -> FakeDaily:
    fake = FakeDaily(router=router)

    def create_room(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        name = body["name"]
        if name in fake.rooms:
            return httpx.Response(
                400,
                json={
                    "error": "invalid-request-error",
                    "info": f"a room named {name} already exists",
                },
            )
        fake.rooms[name] = _room(name, body.get("privacy", "public"), body.get("properties", {}))
        return httpx.Response(200, json=fake.rooms[name])

    def get_room(request: httpx.Request, name: str) -> httpx.Response:
        if name not in fake.rooms:
            return httpx.Response(
                404, json={"error": "not-found", "info": f"room {name} not found"}
            )
        return httpx.Response(200, json=fake.rooms[name])

    def update_room(request: httpx.Request, name: str) -> httpx.Response:
        if name not in fake.rooms:
            return httpx.Response(
                404, json={"error": "not-found", "info": f"room {name} not found"}
            )
        properties = json.loads(request.content).get("properties", {})
        fake.rooms[name]["config"].update(properties)
        return httpx.Response(200, json=fake.rooms[name])

    def delete_room(request: httpx.Request, name: str) -> httpx.Response:
        if fake.rooms.pop(name, None) is None:
            return httpx.Response(
                404, json={"error": "not-found", "info": f"room {name} not found"}
            )
        return httpx.Response(200, json={"deleted": True, "name": name})

    def eject(request: httpx.Request, name: str) -> httpx.Response:
        if name not in fake.rooms:
            return httpx.Response(
                404, json={"error": "not-found", "info": f"room {name} not found"}
            )
        body = json.loads(request.content)
        return httpx.Response(200, json={"ejectedIds": body.get("user_ids", [])})

    def list_rooms(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("starting_after")
        rooms = list(fake.rooms.values())
        if after:
            ids = [room["id"] for room in rooms]
            rooms = rooms[ids.index(after) + 1 :] if after in ids else []
        page = rooms[: int(request.url.params.get("limit", 100))]
        return httpx.Response(200, json={"total_count": len(fake.rooms), "data": page})

    def not_found(what: str) -> httpx.Response:
        return httpx.Response(404, json={"error": "not-found", "info": f"{what} not found"})

    def list_recordings(request: httpx.Request) -> httpx.Response:
        room = request.url.params.get("room_name")
        listed = [r for r in fake.recordings.values() if room in (None, r["room_name"])]
        after = request.url.params.get("starting_after")
        if after:
            ids = [r["id"] for r in listed]
            listed = listed[ids.index(after) + 1 :] if after in ids else []
        return httpx.Response(200, json={"total_count": len(listed), "data": listed[:100]})

    def get_recording(request: httpx.Request, rid: str) -> httpx.Response:
        found = fake.recordings.get(rid)
        return httpx.Response(200, json=found) if found else not_found(f"recording {rid}")

    def delete_recording(request: httpx.Request, rid: str) -> httpx.Response:
        if fake.recordings.pop(rid, None) is None:
            return not_found(f"recording {rid}")
        return httpx.Response(200, json={"deleted": True, "id": rid})

    def access_link(request: httpx.Request, rid: str) -> httpx.Response:
        if rid not in fake.recordings:
            return not_found(f"recording {rid}")
        link = f"https://download.example/{rid}?signature=s{uuid.uuid4().hex}"
        return httpx.Response(200, json={"download_link": link, "expires": 1_900_000_000})

    def start_recording(request: httpx.Request, name: str) -> httpx.Response:
        fake.recording_now.add(name)
        return httpx.Response(200, json={"status": "Success"})

    def stop_recording(request: httpx.Request, name: str) -> httpx.Response:
        if name not in fake.recording_now:
            return httpx.Response(
                400, json={"error": "invalid-request-error", "info": "no active recording"}
            )
        fake.recording_now.discard(name)
        return httpx.Response(200, json={"status": "Success"})

    rec = r"/recordings/(?P<rid>[\w-]+)"
    router.get("/recordings", name="list_recordings").mock(side_effect=list_recordings)
    router.get(path__regex=rf"{rec}$", name="get_recording").mock(side_effect=get_recording)
    router.delete(path__regex=rf"{rec}$", name="delete_recording").mock(
        side_effect=delete_recording
    )
    router.get(path__regex=rf"{rec}/access-link$", name="access_link").mock(side_effect=access_link)
    room_path = r"/rooms/(?P<name>[\w-]+)"
    router.post(path__regex=rf"{room_path}/recordings/start$", name="start_recording").mock(
        side_effect=start_recording
    )
    router.post(path__regex=rf"{room_path}/recordings/stop$", name="stop_recording").mock(
        side_effect=stop_recording
    )
    router.post(path__regex=rf"{room_path}/update-permissions$", name="permissions").respond(
        200, json={"status": "Success"}
    )
    router.get("/", name="domain").respond(
        200, json={"domain_name": "tutorium", "domain_id": DOMAIN_ID, "config": {}}
    )
    router.post("/rooms", name="create_room").mock(side_effect=create_room)
    router.get("/rooms", name="list_rooms").mock(side_effect=list_rooms)
    router.post(path__regex=r"/rooms/(?P<name>[\w-]+)/eject$", name="eject").mock(side_effect=eject)
    router.get(path__regex=r"/rooms/(?P<name>[\w-]+)$", name="get_room").mock(side_effect=get_room)
    router.post(path__regex=r"/rooms/(?P<name>[\w-]+)$", name="update_room").mock(
        side_effect=update_room
    )
    router.delete(path__regex=r"/rooms/(?P<name>[\w-]+)$", name="delete_room").mock(
        side_effect=delete_room
    )
    # Daily's meetings analytics: none recorded unless a test adds some (attendance backfill).
    router.get("/meetings", name="meetings").respond(200, json={"total_count": 0, "data": []})
    router.get(path__regex=r"/meetings/(?P<meeting>[\w-]+)/participants$", name="attended").respond(
        200, json={"total_count": 0, "data": []}
    )
    router.post("/meeting-tokens", name="create_token").mock(
        side_effect=lambda request: httpx.Response(
            200, json={"token": f"api-token-{uuid.uuid4().hex}"}
        )
    )
    return fake


def mocked_daily(base_url: str) -> Iterator[FakeDaily]:
    with respx.mock(base_url=base_url, assert_all_called=False, assert_all_mocked=True) as router:
        yield install(router)
