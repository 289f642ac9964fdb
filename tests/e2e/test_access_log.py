"""The API started as README's Deploying section says (plain `uvicorn app.main:app`, as the
e2e stack and bench/ start it) logs each request once: the app's JSON access line, never
uvicorn's own as well."""

from __future__ import annotations

import json
import time
import uuid

import httpx

from tests.e2e.stack import Stack


def _access_lines(stack: Stack, start: int, request_id: str) -> list[dict[str, object]]:
    lines = [line for line in stack.api_server.tail(start).splitlines() if line.startswith("{")]
    return [
        record
        for record in map(json.loads, lines)
        if record.get("logger") == "app.access" and record.get("request_id") == request_id
    ]


def test_each_request_has_one_access_line_the_apps(stack: Stack) -> None:
    start = stack.api_server.log_size()
    first, last = uuid.uuid4().hex, uuid.uuid4().hex
    for request_id in (first, last):
        response = httpx.get(f"{stack.api_url}/health", headers={"X-Request-ID": request_id})
        assert response.status_code == 200
    # The line is written as the response ends; once the second request's is there, anything
    # the first request was going to log is there too (one process, requests in turn).
    deadline = time.monotonic() + 10
    while not _access_lines(stack, start, last) and time.monotonic() < deadline:
        time.sleep(0.05)
    (line,) = _access_lines(stack, start, first)
    assert (line["method"], line["path"], line["status"]) == ("GET", "/health", 200)
    assert '"GET /health HTTP/1.1" 200' not in stack.api_server.tail(start)  # uvicorn's format
