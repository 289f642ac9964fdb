"""One error hierarchy for the whole service.

Services raise these; one handler in `app.main` renders every one of them as
`{"detail": message, "code": code}`. Clients program against `code` (stable,
snake_case), people read `detail`.
"""


class TutoriumError(Exception):
    status_code: int = 400
    code: str = "bad_request"
    message: str = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(TutoriumError):
    status_code = 400
    code = "bad_request"


class Unauthorized(TutoriumError):
    status_code = 401
    code = "not_authenticated"
    message = "Could not validate credentials."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message, code=code, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(TutoriumError):
    status_code = 403
    code = "forbidden"
    message = "You are not allowed to do this."


class NotFound(TutoriumError):
    status_code = 404
    code = "not_found"
    message = "Not found."


class Conflict(TutoriumError):
    status_code = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class Unprocessable(TutoriumError):
    status_code = 422
    code = "validation_error"
    message = "The request is not valid."


class TooManyRequests(TutoriumError):
    status_code = 429
    code = "rate_limited"
    message = "Too many requests; try again later."

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after_seconds))})


class ProviderRejected(TutoriumError):
    """Daily refused our request (a 4xx): retrying the same call will not help."""

    status_code = 502
    code = "video_provider_rejected"
    message = "The video provider rejected the request."


class ProviderUnavailable(TutoriumError):
    """Daily could not be reached or kept failing within the retry budget."""

    status_code = 503
    code = "video_provider_unavailable"
    message = "The video provider is unavailable; try again shortly."

    def __init__(self, message: str | None = None, *, retry_after_seconds: int = 5) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_seconds)})
