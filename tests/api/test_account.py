from datetime import timedelta

from fastapi.testclient import TestClient

from app.db.types import utcnow
from app.models.user import UserRole
from tests.conftest import TEST_PASSWORD, Account, AccountFactory

ME = "/api/v1/users/me"
LOGIN = "/api/v1/auth/login"


def test_password_change_invalidates_older_tokens(
    client: TestClient, make_account: AccountFactory
) -> None:
    # An account that signed in two seconds ago: iat has one-second resolution, so only a
    # token from an earlier second predates the change.
    earlier = utcnow() - timedelta(seconds=2)
    student = make_account(UserRole.STUDENT, password_changed_at=earlier, token_issued_at=earlier)
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
