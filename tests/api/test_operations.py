"""Request ids, security headers, access logs, metrics, readiness and body limits."""

import io
import json
import logging
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.core.logging import RequestContext, json_handler, request_context_var
from app.main import create_app
from tests.conftest import Account, make_settings
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import SESSIONS, create_session


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    given = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    generated = client.get("/health")
    assert len(generated.headers["X-Request-ID"]) == 32
    hostile = client.get("/health", headers={"X-Request-ID": "x" * 500})
    assert hostile.headers["X-Request-ID"] != "x" * 500


def test_security_headers_on_every_response(client: TestClient) -> None:
    for response in (client.get("/health"), client.get("/api/v1/nope"), client.get(SESSIONS)):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_one_access_line_per_request_with_route_template_and_user(
    client: TestClient, teacher: Account, caplog: pytest.LogCaptureFixture
) -> None:
    session = create_session(client, teacher)
    with caplog.at_level(logging.INFO, logger="app.access"):
        client.get(f"{SESSIONS}/{session['id']}", headers={**teacher.headers, "X-Request-ID": "r1"})
    (line,) = [record for record in caplog.records if record.name == "app.access"]
    assert line.method == "GET"
    assert line.path == "/api/v1/sessions/{session_id}"
    assert line.status == 200
    assert line.duration_ms >= 0
    assert line.request_id == "r1"
    assert line.user_id == str(teacher.id)


@pytest.fixture
def uvicorn_loggers() -> Iterator[None]:
    """uvicorn's loggers as they were: a test that lets uvicorn configure them puts them back."""
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg.disabled, lg.handlers[:], lg.propagate, lg.level) for lg in loggers]
    yield
    for lg, (disabled, handlers, propagate, level) in zip(loggers, saved, strict=True):
        lg.disabled, lg.handlers, lg.propagate, lg.level = disabled, handlers, propagate, level


def test_uvicorn_access_log_stays_off_when_the_server_sets_up_logging_after_the_app(
    app: FastAPI, daily: FakeDaily, uvicorn_loggers: None
) -> None:
    """`uvicorn.run(app)`, a `--log-config` or gunicorn configure logging after the app is
    imported, which turns uvicorn's access log back on; the app starting turns it off again,
    so each request keeps one access line, the app's."""
    access = logging.getLogger("uvicorn.access")
    uvicorn.Config(app, access_log=True, log_level="info")  # configures logging, as a server does
    assert not access.disabled
    with TestClient(app) as client:
        assert access.disabled
        assert client.get("/health").status_code == 200


def test_daily_calls_are_logged_with_endpoint_status_and_attempt(
    client: TestClient, teacher: Account, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.services.daily.client"):
        create_session(client, teacher)
    (line,) = [r for r in caplog.records if getattr(r, "daily_endpoint", None) == "/rooms"]
    assert line.daily_status == 200
    assert line.attempt == 1
    assert line.duration_ms >= 0


def test_logs_are_json_lines_carrying_the_request_context() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.json")
    logger.addHandler(json_handler(stream))
    logger.setLevel(logging.INFO)
    reset = request_context_var.set(RequestContext(request_id="json-check", user_id="u-1"))
    try:
        logger.info("hello %s", "world", extra={"status": 201})
    finally:
        request_context_var.reset(reset)
        logger.handlers.clear()
    record = json.loads(stream.getvalue())
    assert record["message"] == "hello world"
    assert record["level"] == "INFO"
    assert record["request_id"] == "json-check"
    assert record["user_id"] == "u-1"
    assert record["status"] == 201


def test_metrics_expose_routes_daily_calls_and_sessions(
    client: TestClient, teacher: Account
) -> None:
    create_session(client, teacher)
    client.get(SESSIONS, headers=teacher.headers)
    text = client.get("/metrics").text
    assert 'tutorium_http_requests_total{method="GET",route="/api/v1/sessions",status="200"}' in (
        text
    )
    assert "tutorium_http_request_duration_seconds_bucket" in text
    assert 'tutorium_daily_requests_total{endpoint="/rooms",method="POST",status="200"}' in text
    assert 'tutorium_sessions{status="scheduled"} 1.0' in text
    assert "tutorium_webhook_events_total" in text


def test_ready_reports_database_and_daily_configuration(client: TestClient) -> None:
    body = client.get("/health/ready").json()
    assert body["database"] == "ok"
    assert body["daily"] == {
        "configured": True,
        "emulated": True,
        "token_mode": "self_signed",
        "webhook_secret_configured": True,
    }
    assert "test-daily-api-key" not in json.dumps(body)


def test_bodies_over_one_mebibyte_are_413(client: TestClient, teacher: Account) -> None:
    big = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'
    declared = client.post(
        SESSIONS, content=big, headers={**teacher.headers, "Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert declared.json() == {
        "detail": "Request body is larger than 1 MiB.",
        "code": "payload_too_large",
    }

    def chunks() -> Iterator[bytes]:  # streamed: no Content-Length header
        yield big[: len(big) // 2]
        yield big[len(big) // 2 :]

    streamed = client.post(
        SESSIONS, content=chunks(), headers={**teacher.headers, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["code"] == "payload_too_large"


def test_cors_allows_only_configured_origins(client: TestClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = client.options(
        SESSIONS, headers={**preflight, "Origin": "https://teacher.example.com"}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://teacher.example.com"
    refused = client.options(SESSIONS, headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in refused.headers


def test_no_cors_origins_means_no_cross_origin_access(
    session_factory: sessionmaker[Session], daily: FakeDaily
) -> None:
    app = create_app(make_settings(cors_origins=[]))
    app.state.session_factory = session_factory
    with TestClient(app) as client:
        response = client.options(
            SESSIONS,
            headers={
                "Origin": "https://teacher.example.com",
                "Access-Control-Request-Method": "GET",
            },
        )
    assert "access-control-allow-origin" not in response.headers


def _app_with(session_factory: sessionmaker[Session], **overrides: object) -> FastAPI:
    app = create_app(make_settings(**overrides))
    app.state.session_factory = session_factory
    return app


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:3000"])
def test_dev_without_cors_origins_allows_local_web_apps(
    session_factory: sessionmaker[Session], daily: FakeDaily, origin: str
) -> None:
    app = _app_with(session_factory, environment="dev", cors_origins=[])
    with TestClient(app) as client:
        preflight = client.options(
            SESSIONS, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
        )
        foreign = client.options(
            SESSIONS,
            headers={
                "Origin": "http://localhost.evil.example",
                "Access-Control-Request-Method": "POST",
            },
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "access-control-allow-origin" not in foreign.headers


def test_production_without_cors_origins_allows_no_local_origin(
    session_factory: sessionmaker[Session], daily: FakeDaily
) -> None:
    app = _app_with(session_factory, environment="production", cors_origins=[], secret_key="s" * 40)
    with TestClient(app) as client:
        response = client.options(
            SESSIONS,
            headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"},
        )
    assert "access-control-allow-origin" not in response.headers


def test_errors_and_413_carry_cors_headers(client: TestClient, teacher: Account) -> None:
    origin = {"Origin": "https://teacher.example.com"}
    too_big = client.post(
        SESSIONS,
        content=b"x" * (1024 * 1024 + 1),
        headers={**teacher.headers, **origin, "Content-Type": "application/json"},
    )
    unauthenticated = client.get(SESSIONS, headers=origin)
    assert (too_big.status_code, unauthenticated.status_code) == (413, 401)
    for response in (too_big, unauthenticated):
        assert response.headers["access-control-allow-origin"] == "https://teacher.example.com"
    assert "Retry-After" in unauthenticated.headers["access-control-expose-headers"]
