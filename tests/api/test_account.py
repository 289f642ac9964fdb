import time

from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD, Account

ME = "/api/v1/users/me"
LOGIN = "/api/v1/auth/login"


def test_password_change_invalidates_older_tokens(client: TestClient, student: Account) -> None:
    time.sleep(1.01)  # iat has one-second resolution: the old token must predate the change
    changed = client.post(
        f"{ME}/password",
        json={"current_password": TEST_PASSWORD, "new_password": "a brand new passphrase"},
        headers=student.headers,
    )
    assert changed.status_code == 204
    assert client.get(ME, headers=student.headers).status_code == 401
    old = client.post(LOGIN, data={"username": student.user.email, "password": TEST_PASSWORD})
    assert old.status_code == 401
    new = client.post(
        LOGIN, data={"username": student.user.email, "password": "a brand new passphrase"}
    )
    assert new.status_code == 200
    token = new.json()["access_token"]
    assert client.get(ME, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_password_change_needs_the_current_password(client: TestClient, student: Account) -> None:
    response = client.post(
        f"{ME}/password",
        json={"current_password": "not it at all", "new_password": "a brand new passphrase"},
        headers=student.headers,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_current_password"
    weak = client.post(
        f"{ME}/password",
        json={"current_password": TEST_PASSWORD, "new_password": "short"},
        headers=student.headers,
    )
    assert weak.status_code == 422


def test_closed_account_tokens_are_refused_at_once(client: TestClient, student: Account) -> None:
    assert client.delete(ME, headers=student.headers).status_code == 204
    assert client.get(ME, headers=student.headers).status_code == 401
    login = client.post(LOGIN, data={"username": student.user.email, "password": TEST_PASSWORD})
    assert login.status_code == 401
