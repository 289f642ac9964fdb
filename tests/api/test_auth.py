import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from jose import jwt

from app.core.config import Settings
from app.core.security import create_access_token
from tests.conftest import TEST_PASSWORD, Account, AccountFactory

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/users/me"


def register(client: TestClient, **overrides: object) -> dict:
    body = {
        "email": "Grace.Hopper@Example.com",
        "password": "a long enough password",
        "full_name": "Grace Hopper",
        "role": "teacher",
    }
    body.update(overrides)
    return client.post(REGISTER, json=body)  # type: ignore[return-value]


def login(client: TestClient, email: str, password: str):
    return client.post(LOGIN, data={"username": email, "password": password})


def test_register_login_me_round_trip(client: TestClient) -> None:
    created = register(client)
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["email"] == "grace.hopper@example.com"
    assert user["role"] == "teacher"
    assert "password" not in created.text
    assert "hashed" not in created.text
    assert datetime.fromisoformat(user["created_at"]).utcoffset() == timedelta(0)
    uuid.UUID(user["id"])

    token = login(client, "GRACE.hopper@example.com", "a long enough password")
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600

    me = client.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]


def test_duplicate_email_differing_in_case_is_409(client: TestClient) -> None:
    assert register(client).status_code == 201
    again = register(client, email="GRACE.HOPPER@example.com")
    assert again.status_code == 409
    assert again.json() == {
        "detail": "An account with this email already exists.",
        "code": "email_taken",
    }


@pytest.mark.parametrize(
    "overrides",
    [
        {"password": "short"},
        {"password": "x" * 129},
        {"password": "aaaaaaaaaaaa"},
        {"email": "not-an-email"},
        {"role": "admin"},
        {"full_name": ""},
        {"full_name": "x" * 201},
        {"full_name": "nul\x00byte"},
        {"unexpected": "field"},
    ],
)
def test_register_rejects_bad_input_with_422(client: TestClient, overrides: dict) -> None:
    response = register(client, **overrides)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert all("input" not in error for error in body["errors"])
    assert "aaaaaaaaaaaa" not in response.text


def test_validation_errors_never_echo_the_password(client: TestClient) -> None:
    response = register(client, password="secret\x00password")
    assert response.status_code == 422
    assert "secret" not in response.text


@pytest.mark.parametrize("body", ["not json", "[]", '{"email": 1}'])
def test_malformed_bodies_are_422(client: TestClient, body: str) -> None:
    response = client.post(REGISTER, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_wrong_password_and_unknown_email_get_the_same_401(
    client: TestClient, student: Account
) -> None:
    wrong = login(client, student.user.email, "not the password")
    unknown = login(client, "nobody@example.com", TEST_PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "detail": "Incorrect email or password.",
            "code": "invalid_credentials",
        }
    )


def test_inactive_user_cannot_log_in_or_use_a_token(
    client: TestClient, make_account: AccountFactory
) -> None:
    inactive = make_account("student", is_active=False)
    assert login(client, inactive.user.email, TEST_PASSWORD).status_code == 401
    assert client.get(ME, headers=inactive.headers).status_code == 401


def test_login_form_fields_are_bounded(client: TestClient) -> None:
    assert login(client, "a" * 400 + "@example.com", TEST_PASSWORD).status_code == 422
    assert login(client, "a@example.com", "p" * 129).status_code == 422


def _assert_refused(response, code: str = "not_authenticated") -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == code


def test_me_without_token_is_401(client: TestClient) -> None:
    _assert_refused(client.get(ME))


def test_expired_token_is_401_token_expired(
    client: TestClient, student: Account, settings: Settings
) -> None:
    """Its own code, so a client knows a refresh (not a new login) is what it needs."""
    old = datetime.now(UTC) - timedelta(hours=3)
    token = create_access_token(user_id=student.id, role="student", settings=settings, now=old)
    response = client.get(ME, headers={"Authorization": f"Bearer {token.token}"})
    _assert_refused(response, code="token_expired")


def test_expired_token_signed_with_another_key_is_not_token_expired(
    client: TestClient, student: Account
) -> None:
    old = int((datetime.now(UTC) - timedelta(hours=3)).timestamp())
    claims = {"sub": str(student.id), "role": "student", "iat": old, "exp": old + 600}
    forged = jwt.encode(claims, "another-key-entirely-0123456789abcdef", algorithm="HS256")
    _assert_refused(client.get(ME, headers={"Authorization": f"Bearer {forged}"}))


def test_token_signed_with_another_key_is_401(client: TestClient, student: Account) -> None:
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": str(student.id), "role": "student", "iat": now, "exp": now + 600}
    forged = jwt.encode(claims, "another-key-entirely-0123456789abcdef", algorithm="HS256")
    _assert_refused(client.get(ME, headers={"Authorization": f"Bearer {forged}"}))


def test_alg_none_token_is_401(client: TestClient, student: Account) -> None:
    import base64
    import json

    def segment(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": str(student.id), "role": "student", "iat": now, "exp": now + 600}
    unsigned = f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims)}."
    _assert_refused(client.get(ME, headers={"Authorization": f"Bearer {unsigned}"}))


def test_token_of_a_deleted_user_is_401(client: TestClient, settings: Settings) -> None:
    token = create_access_token(user_id=uuid.uuid4(), role="student", settings=settings)
    _assert_refused(client.get(ME, headers={"Authorization": f"Bearer {token.token}"}))


def test_garbage_token_is_401(client: TestClient) -> None:
    _assert_refused(client.get(ME, headers={"Authorization": "Bearer not.a.jwt"}))
