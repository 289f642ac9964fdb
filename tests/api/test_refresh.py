"""Refresh tokens: a teacher's app keeps working past the access token's lifetime."""

import hashlib
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.security import create_access_token
from app.models.refresh_token import RefreshToken
from tests.conftest import TEST_PASSWORD, Account

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"


def log_in(client: TestClient, account: Account) -> dict:
    response = client.post(LOGIN, data={"username": account.user.email, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


def refresh(client: TestClient, token: str):
    return client.post(REFRESH, json={"refresh_token": token})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response) -> None:
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_refresh_token"


def test_login_answers_a_refresh_token_and_a_refresh_rotates_it(
    client: TestClient, teacher: Account, settings: Settings
) -> None:
    tokens = log_in(client, teacher)
    assert tokens["refresh_expires_in"] == settings.refresh_token_expire_days * 86400
    renewed = refresh(client, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["refresh_token"] != tokens["refresh_token"]
    assert client.get(ME, headers=bearer(body["access_token"])).json()["id"] == str(teacher.id)
    # The new one works once too.
    assert refresh(client, body["refresh_token"]).status_code == 200


def test_a_refresh_outlives_an_expired_access_token(
    client: TestClient, teacher: Account, settings: Settings
) -> None:
    tokens = log_in(client, teacher)
    an_hour_ago = datetime.now(UTC) - timedelta(minutes=settings.access_token_expire_minutes + 1)
    expired = create_access_token(
        user_id=teacher.id, role="teacher", settings=settings, now=an_hour_ago
    )
    refused = client.get(ME, headers=bearer(expired.token))
    assert refused.json()["code"] == "token_expired"
    renewed = refresh(client, tokens["refresh_token"]).json()
    assert client.get(ME, headers=bearer(renewed["access_token"])).status_code == 200


def test_reusing_a_spent_token_revokes_its_whole_family(
    client: TestClient, teacher: Account
) -> None:
    first = log_in(client, teacher)["refresh_token"]
    other_login = log_in(client, teacher)["refresh_token"]
    second = refresh(client, first).json()["refresh_token"]

    assert_refused(refresh(client, first))  # spent: someone else has it
    assert_refused(refresh(client, second))  # so the chain it belongs to is revoked
    assert refresh(client, other_login).status_code == 200  # another login is not


def test_password_change_and_account_closing_revoke_refresh_tokens(
    client: TestClient, teacher: Account, student: Account
) -> None:
    token = log_in(client, teacher)["refresh_token"]
    changed = client.post(
        "/api/v1/users/me/password",
        json={"current_password": TEST_PASSWORD, "new_password": "another fine password"},
        headers=teacher.headers,
    )
    assert changed.status_code == 204
    assert_refused(refresh(client, token))

    token = log_in(client, student)["refresh_token"]
    assert client.delete(ME, headers=student.headers).status_code == 204
    assert_refused(refresh(client, token))


def test_unknown_tokens_are_refused(client: TestClient) -> None:
    assert_refused(refresh(client, "not-a-token"))


def test_tokens_are_stored_hashed(client: TestClient, teacher: Account, db: Session) -> None:
    token = log_in(client, teacher)["refresh_token"]
    stored = db.scalars(select(RefreshToken.token_hash)).all()
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored
