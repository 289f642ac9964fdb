"""One error hierarchy for the whole service, and the one registry of error codes.

Services raise these; one handler in `app.api.errors` renders every one of them as
`{"detail": message, "code": code}`. Clients program against `code` (stable,
snake_case), people read `detail`. Every code the API can answer is a member of
`ErrorCode`, and every domain error is a class here with its code and message, so a
raise site names a class, never a string, and the OpenAPI schema can publish the lot.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every machine-readable `code` an error response can carry."""

    BAD_REQUEST = "bad_request"
    INVALID_JSON = "invalid_json"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_WEBHOOK_SIGNATURE = "invalid_webhook_signature"
    INVALID_CREDENTIALS = "invalid_credentials"
    INVALID_FEED_TICKET = "invalid_feed_ticket"
    FORBIDDEN = "forbidden"
    TEACHER_ONLY = "teacher_only"
    NOT_SESSION_TEACHER = "not_session_teacher"
    INVALID_CURRENT_PASSWORD = "invalid_current_password"  # noqa: S105 (a code, not a password)
    REMOVED_FROM_SESSION = "removed_from_session"
    NOT_FOUND = "not_found"
    SESSION_NOT_FOUND = "session_not_found"
    ROOM_CODE_NOT_FOUND = "room_code_not_found"
    PARTICIPANT_NOT_FOUND = "participant_not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    EMAIL_TAKEN = "email_taken"
    SESSION_FULL = "session_full"
    SESSION_ENDED = "session_ended"
    INVALID_STATUS_TRANSITION = "invalid_status_transition"
    BELOW_SEATED_COUNT = "below_seated_count"
    CANNOT_REMOVE_TEACHER = "cannot_remove_teacher"
    SESSION_CHANGED = "session_changed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    VALIDATION_ERROR = "validation_error"
    SESSION_IN_PAST = "session_in_past"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    VIDEO_PROVIDER_REJECTED = "video_provider_rejected"
    VIDEO_PROVIDER_UNAVAILABLE = "video_provider_unavailable"
    DATABASE_UNAVAILABLE = "database_unavailable"


class TutoriumError(Exception):
    status_code: int = 400
    code: ErrorCode = ErrorCode.BAD_REQUEST
    message: str = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(TutoriumError):
    status_code = 400
    code = ErrorCode.BAD_REQUEST


class InvalidJson(BadRequest):
    code = ErrorCode.INVALID_JSON
    message = "The body is not valid JSON."


class Unauthorized(TutoriumError):
    status_code = 401
    code = ErrorCode.NOT_AUTHENTICATED
    message = "Could not validate credentials."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class InvalidCredentials(Unauthorized):
    code = ErrorCode.INVALID_CREDENTIALS
    message = "Incorrect email or password."


class InvalidFeedTicket(Unauthorized):
    code = ErrorCode.INVALID_FEED_TICKET
    message = "The feed ticket is unknown, used, expired or for another session."


class Forbidden(TutoriumError):
    status_code = 403
    code = ErrorCode.FORBIDDEN
    message = "You are not allowed to do this."


class TeacherOnly(Forbidden):
    code = ErrorCode.TEACHER_ONLY
    message = "Only teachers can do this."


class NotSessionTeacher(Forbidden):
    code = ErrorCode.NOT_SESSION_TEACHER
    message = "Only the session's teacher can do this."


class InvalidCurrentPassword(Forbidden):
    code = ErrorCode.INVALID_CURRENT_PASSWORD
    message = "The current password is not correct."


class RemovedFromSession(Forbidden):
    code = ErrorCode.REMOVED_FROM_SESSION
    message = "You were removed from this session."


class NotFound(TutoriumError):
    status_code = 404
    code = ErrorCode.NOT_FOUND
    message = "Not found."


class SessionNotFound(NotFound):
    """Also what an outsider hears for a session that exists: ids reveal nothing."""

    code = ErrorCode.SESSION_NOT_FOUND
    message = "Session not found."


class RoomCodeNotFound(NotFound):
    code = ErrorCode.ROOM_CODE_NOT_FOUND
    message = "No session has this room code."


class ParticipantNotFound(NotFound):
    code = ErrorCode.PARTICIPANT_NOT_FOUND
    message = "This user is not in the session."


class Conflict(TutoriumError):
    status_code = 409
    code = ErrorCode.CONFLICT
    message = "The request conflicts with the current state."


class EmailTaken(Conflict):
    code = ErrorCode.EMAIL_TAKEN
    message = "An account with this email already exists."


class SessionFull(Conflict):
    code = ErrorCode.SESSION_FULL
    message = "This session is full."


class SessionEnded(Conflict):
    code = ErrorCode.SESSION_ENDED
    message = "This session has ended."


class InvalidStatusTransition(Conflict):
    code = ErrorCode.INVALID_STATUS_TRANSITION
    message = "A session's status only moves forward."


class BelowSeatedCount(Conflict):
    code = ErrorCode.BELOW_SEATED_COUNT
    message = "More students already hold a seat than max_participants would allow."


class CannotRemoveTeacher(Conflict):
    code = ErrorCode.CANNOT_REMOVE_TEACHER
    message = "The teacher cannot be removed from their own session."


class SessionChanged(Conflict):
    """Another change to the session's size or schedule won the race: read it, try again."""

    code = ErrorCode.SESSION_CHANGED
    message = "The session changed while this request ran; read it again and retry."


class Unprocessable(TutoriumError):
    status_code = 422
    code = ErrorCode.VALIDATION_ERROR
    message = "The request is not valid."


class SessionInPast(Unprocessable):
    code = ErrorCode.SESSION_IN_PAST
    message = "The session would already be over: move scheduled_start_at or lengthen it."


class TooManyRequests(TutoriumError):
    status_code = 429
    code = ErrorCode.RATE_LIMITED
    message = "Too many requests; try again later."

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after_seconds))})


class ProviderRejected(TutoriumError):
    """Daily refused our request (a 4xx): retrying the same call will not help."""

    status_code = 502
    code = ErrorCode.VIDEO_PROVIDER_REJECTED
    message = "The video provider rejected the request."


class ProviderUnavailable(TutoriumError):
    """Daily could not be reached or kept failing within the retry budget."""

    status_code = 503
    code = ErrorCode.VIDEO_PROVIDER_UNAVAILABLE
    message = "The video provider is unavailable; try again shortly."

    def __init__(self, message: str | None = None, *, retry_after_seconds: int = 5) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_seconds)})


class DatabaseUnavailable(TutoriumError):
    """PostgreSQL could not be reached (restarting, stopped, pool exhausted): retry later.

    Safe to retry for every route: a request that fails this way either committed nothing,
    or (a join whose seat statement committed before the connection dropped) finds its
    seat again on the retry.
    """

    status_code = 503
    code = ErrorCode.DATABASE_UNAVAILABLE
    message = "The database is unavailable; try again shortly."

    def __init__(self, message: str | None = None, *, retry_after_seconds: int = 2) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_seconds)})
