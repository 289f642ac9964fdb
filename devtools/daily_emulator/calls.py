"""The part of Daily no REST call shows: people joining and leaving calls, and the webhooks
that follow. It lets Tutorium's attendance and session logic be tested without a browser.

Entry rules follow Daily's docs: room `nbf`/`exp` and token `nbf`/`exp` gate entry only; a
private room needs a valid token; a token without `r` is valid for every room of the domain;
ejection times are fixed at join time (Daily's `will_eject_at`), so later room edits never move
them - a field-measured Daily behaviour. Events are emitted while the state lock is held, which
keeps webhook order identical to the order of state changes.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from .errors import JoinRefused, invalid_request, not_found
from .state import Clock, Meeting, Participant, Room, Store, attendance_of
from .tokens import MeetingToken, verify_token
from .webhooks import WebhookOutbox

DEFAULT_MAX_PARTICIPANTS = 200
MAX_EJECT_IDS = 100


def _will_eject_at(room: Room, token: MeetingToken | None, joined_at: float) -> int:
    """Token eject settings, if any is set, replace the room's entirely (Daily's rule)."""
    claims = token.claims if token else {}
    due: list[float] = []
    if "ejt" in claims or "eje" in claims:
        if claims.get("ejt") is True and isinstance(claims.get("exp"), int | float):
            due.append(claims["exp"])
        if isinstance(claims.get("eje"), int):
            due.append(joined_at + claims["eje"])
    else:
        if room.config.get("eject_at_room_exp") and room.config.get("exp") is not None:
            due.append(room.config["exp"])
        if isinstance(room.config.get("eject_after_elapsed"), int):
            due.append(joined_at + room.config["eject_after_elapsed"])
    return int(min(due)) if due else 0


def _permissions(room: Room, token: MeetingToken | None, owner: bool) -> dict[str, Any]:
    """Token permissions override room permissions; both apply to non-owners only (an owner
    may always send and administer)."""
    merged = {"hasPresence": True, "canSend": True, "canAdmin": owner}
    if not owner:
        merged.update(room.config.get("permissions") or {})
        merged.update((token.claims.get("p") if token else None) or {})
    return {key: merged[key] for key in ("hasPresence", "canSend", "canAdmin")}


def _participant_payload(p: Participant) -> dict[str, Any]:
    return {
        "joined_at": round(p.joined_at, 3),
        "session_id": p.id,
        "room": p.room,
        "user_id": p.user_id,
        "user_name": p.user_name,
        "owner": p.owner,
        "will_eject_at": p.will_eject_at,
        "permissions": dict(p.permissions),
    }


class CallListener(Protocol):
    """Told of joins and meeting ends, under the store lock (e.g. cloud recordings)."""

    def joined(self, room: Room, participant: Participant, token: MeetingToken | None) -> None: ...
    def meeting_ended(self, room_name: str) -> None: ...


class CallSimulator:
    def __init__(self, store: Store, outbox: WebhookOutbox, clock: Clock, api_key: str) -> None:
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.api_key = api_key
        self.listeners: list[CallListener] = []

    def join(
        self, room_name: str, token: str | None, *, user_name: str | None, user_id: str | None
    ) -> dict[str, Any]:
        now = self.clock.now()
        with self.store.lock:
            self.sweep()
            room, meeting_token = self.check_entry(room_name, token)
            if meeting_token is not None:
                user_id = meeting_token.user_id or user_id
                user_name = meeting_token.user_name or user_name
            if user_id and user_id in self.store.bans.get(room_name, set()):
                raise JoinRefused("ejected", "you were ejected from this room and cannot rejoin")
            present = self.store.in_room(room_name)
            unique = room.config.get("enforce_unique_user_ids") is True
            replaced = [p for p in present if unique and user_id and p.user_id == user_id]
            limit = room.config.get("max_participants", DEFAULT_MAX_PARTICIPANTS)
            if len(present) - len(replaced) >= limit:
                raise JoinRefused("meeting-full", "the meeting is full")
            # The newcomer is in before the earlier session is ejected, so the meeting goes on.
            participant = self._admit(room, meeting_token, user_name, user_id, now)
            for earlier in replaced:
                self._remove(earlier, now, "ejected")
        response = _participant_payload(participant)
        response.update(
            participant_id=participant.id,
            meeting_id=participant.meeting_id,
            enable_screenshare=participant.enable_screenshare,
            replaced_participant_ids=[p.id for p in replaced],
        )
        return response

    def check_entry(self, room_name: str, token: str | None) -> tuple[Room, MeetingToken | None]:
        """The checks daily-js runs before joining, without joining (also used by room pages)."""
        now = self.clock.now()
        with self.store.lock:
            room = self.store.rooms.get(room_name)
            if room is None:
                raise JoinRefused("no-room", f"room {room_name} does not exist")
            self._check_room_window(room, now)
            meeting_token = self._check_token(room, token, now)
            if room.privacy == "private" and meeting_token is None:
                raise JoinRefused(
                    "not-allowed", "this is a private room; a meeting token is needed"
                )
            return room, meeting_token

    def leave(self, room_name: str, participant_id: str) -> dict[str, Any]:
        now = self.clock.now()
        with self.store.lock:
            participant = self.store.participants.get(participant_id)
            if participant is None or participant.room != room_name:
                raise not_found(f"participant {participant_id} is not in room {room_name}")
            ended = self._remove(participant, now, "left")
        return {
            "left": True,
            "participant_id": participant_id,
            "room": room_name,
            "duration": round(now - participant.joined_at, 3),
            "meeting_ended": ended,
        }

    def eject(self, room_name: str, ids: list[str], user_ids: list[str], ban: bool) -> list[str]:
        """Daily's `POST /rooms/:name/eject`. With `ban`, the `user_ids` (not the `ids`) may not
        rejoin, but only while the meeting is active (daily-api.md §10): once the call empties,
        or if it already was empty, the ban is forgotten and the old token gets in again."""
        for name, values in (("ids", ids), ("user_ids", user_ids)):
            if len(values) > MAX_EJECT_IDS:
                raise invalid_request(f"{name} may contain at most {MAX_EJECT_IDS} entries")
        now = self.clock.now()
        with self.store.lock:
            targets = [
                p for p in self.store.in_room(room_name) if p.id in ids or p.user_id in user_ids
            ]
            for participant in targets:
                self._remove(participant, now, "ejected")
            if ban and room_name in self.store.meetings:
                self.store.bans.setdefault(room_name, set()).update(user_ids)
        return [p.id for p in targets]

    def end_meeting(self, room_name: str) -> None:
        """Everyone leaves (with webhooks): a room deleted with the `delete_room_ejects`
        behaviour on (Daily does not document that a delete ejects anyone)."""
        now = self.clock.now()
        with self.store.lock:
            for participant in self.store.in_room(room_name):
                self._remove(participant, now, "room-deleted")

    def sweep(self) -> None:
        """Eject everyone whose `will_eject_at` has passed (run by a ticker and per request)."""
        now = self.clock.now()
        with self.store.lock:
            for participant in list(self.store.participants.values()):
                if participant.will_eject_at and participant.will_eject_at <= now:
                    self._remove(participant, now, "ejected")

    def _check_room_window(self, room: Room, now: float) -> None:
        if room.is_expired(now):
            raise JoinRefused("exp-room", "the room has expired")
        nbf = room.config.get("nbf")
        if nbf is not None and nbf > now:
            raise JoinRefused("nbf-room", "the room is not available yet (nbf)")

    def _check_token(self, room: Room, token: str | None, now: float) -> MeetingToken | None:
        if not token:
            return None
        verified = verify_token(
            token, api_key=self.api_key, domain_id=self.store.domain_id, now=now
        )
        if verified.room_name is not None and verified.room_name != room.name:
            raise JoinRefused("not-allowed", "the meeting token is for another room")
        return verified

    def _admit(
        self,
        room: Room,
        token: MeetingToken | None,
        user_name: str | None,
        user_id: str | None,
        now: float,
    ) -> Participant:
        meeting = self.store.meetings.get(room.name)
        if meeting is None:
            meeting = Meeting(id=str(uuid.uuid4()), room=room.name, start_ts=now)
            self.store.meetings[room.name] = meeting
            self.store.meeting_history.append(meeting)
            self.outbox.emit(
                "meeting.started",
                {"start_ts": round(now, 3), "meeting_id": meeting.id, "room": room.name},
            )
        participant_id = str(uuid.uuid4())
        owner = token.is_owner if token else False
        room_screenshare = room.config.get("enable_screenshare", True) is not False
        participant = Participant(
            id=participant_id,
            room=room.name,
            meeting_id=meeting.id,
            user_id=user_id or participant_id,  # daily-js: user_id defaults to session_id
            user_name=user_name or "",
            owner=owner,
            joined_at=now,
            will_eject_at=_will_eject_at(room, token, now),
            permissions=_permissions(room, token, owner),
            enable_screenshare=room_screenshare and (token.enable_screenshare if token else True),
        )
        self.store.participants[participant.id] = participant
        meeting.max_participants = max(meeting.max_participants, len(self.store.in_room(room.name)))
        self.outbox.emit("participant.joined", _participant_payload(participant))
        for listener in self.listeners:
            listener.joined(room, participant, token)
        return participant

    def share_screen(self, room_name: str, participant_id: str, sharing: bool) -> bool:
        """Start or stop a participant's screen share; returns whether they share now. Without
        the permission nothing starts and nothing is raised, as daily-js's `startScreenShare()`
        returns nothing either way."""
        with self.store.lock:
            participant = self.store.participants.get(participant_id)
            if participant is None or participant.room != room_name:
                raise not_found(f"participant {participant_id} is not in room {room_name}")
            participant.sharing_screen = sharing and participant.may_share_screen
            return participant.sharing_screen

    def _remove(self, participant: Participant, now: float, reason: str) -> bool:
        """Take one participant out; returns True when that ended the meeting."""
        self.store.participants.pop(participant.id, None)
        for past in self.store.meeting_history:
            if past.id == participant.meeting_id:
                past.attended.append(attendance_of(participant, now))
        self.store.departures[participant.id] = reason
        payload = _participant_payload(participant)
        payload["duration"] = round(now - participant.joined_at, 3)
        self.outbox.emit("participant.left", payload)
        if self.store.in_room(participant.room):
            return False
        meeting = self.store.meetings.pop(participant.room, None)
        self.store.bans.pop(participant.room, None)  # bans live as long as the meeting
        if meeting is None:
            return False
        meeting.end_ts = now
        for listener in self.listeners:
            listener.meeting_ended(meeting.room)
        self.outbox.emit(
            "meeting.ended",
            {
                "start_ts": round(meeting.start_ts, 3),
                "end_ts": round(now, 3),
                "meeting_id": meeting.id,
                "room": meeting.room,
            },
        )
        return True
