"""/docs and /redoc work with the network cut off: their assets are served by the API."""

from fastapi.testclient import TestClient

from tests.docs_pages import assert_served_offline


def test_swagger_ui_is_served_offline_and_keeps_authorization(client: TestClient) -> None:
    html = assert_served_offline(client, "/docs")
    assert '"persistAuthorization": true' in html
    assert "/openapi.json" in html


def test_redoc_is_served_offline(client: TestClient) -> None:
    assert_served_offline(client, "/redoc")
