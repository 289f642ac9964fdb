from fastapi.testclient import TestClient


def test_health_is_up(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_ready_checks_the_database(client: TestClient) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["rate_limit_storage"] == "memory"  # the test settings' default


def test_unknown_route_uses_the_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found", "code": "not_found"}
