"""What a browser client meets when a request is not shaped as the API wants it."""

import json

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD, Account
from tests.sessions_helpers import create_session

SESSIONS = "/api/v1/sessions"
LOGIN = "/api/v1/auth/login"


def test_json_labelled_text_plain_is_415_with_a_hint(client: TestClient, teacher: Account) -> None:
    """What `fetch(url, {body: JSON.stringify(...)})` sends without a Content-Type header."""
    response = client.post(
        SESSIONS,
        content=json.dumps({"title": "Algebra"}),
        headers={**teacher.headers, "Content-Type": "text/plain;charset=UTF-8"},
    )
    assert response.status_code == 415
    assert response.json() == {
        "detail": "Send this body as JSON, with `Content-Type: application/json`.",
        "code": "unsupported_media_type",
    }


def test_unlabelled_json_is_415_too(client: TestClient, teacher: Account) -> None:
    response = client.post(
        SESSIONS, content=json.dumps({"title": "Algebra"}), headers=teacher.headers
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_json_login_is_told_login_is_a_form(client: TestClient, teacher: Account) -> None:
    response = client.post(LOGIN, json={"username": teacher.user.email, "password": TEST_PASSWORD})
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert "form" in response.json()["detail"]


def test_validation_error_is_one_shape(client: TestClient, teacher: Account) -> None:
    field_error = client.post(SESSIONS, json={"title": ""}, headers=teacher.headers)
    rule_error = client.post(
        SESSIONS,
        json={"title": "Past", "scheduled_start_at": "2001-01-01T00:00:00Z"},
        headers=teacher.headers,
    )
    assert field_error.status_code == rule_error.status_code == 422
    for response in (field_error, rule_error):
        assert set(response.json()) == {"detail", "code", "errors"}
        assert isinstance(response.json()["detail"], str)
    assert field_error.json()["errors"][0]["loc"] == ["body", "title"]
    assert rule_error.json()["errors"] == []


@pytest.mark.parametrize("field", ["title", "max_participants", "duration_minutes", "status"])
def test_update_refuses_null_where_the_schema_says_not_null(
    client: TestClient, teacher: Account, field: str
) -> None:
    session = create_session(client, teacher)
    response = client.patch(
        f"{SESSIONS}/{session['id']}", json={field: None}, headers=teacher.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", field]


def test_update_accepts_null_where_it_means_something(client: TestClient, teacher: Account) -> None:
    session = create_session(client, teacher, description="Bring a calculator.")
    response = client.patch(
        f"{SESSIONS}/{session['id']}", json={"description": None}, headers=teacher.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["description"] is None


def test_405_allow_lists_every_method_of_the_path(client: TestClient, teacher: Account) -> None:
    response = client.put("/api/v1/users/me", headers=teacher.headers)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "DELETE, GET"


def test_other_methods_on_join_by_code_are_405(client: TestClient, teacher: Account) -> None:
    response = client.patch(f"{SESSIONS}/join-by-code", json={}, headers=teacher.headers)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
