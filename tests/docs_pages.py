"""Checks that a Swagger UI or ReDoc page needs nothing but the server that serves it."""

import re

from fastapi.testclient import TestClient

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def assert_served_offline(client: TestClient, page: str) -> str:
    """Every script, stylesheet and icon the page names comes from this server; returns the
    page's HTML."""
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assets = ASSET.findall(html)
    assert assets, html
    for asset in assets:
        assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
        fetched = client.get(asset)
        assert fetched.status_code == 200, asset
        assert len(fetched.content) > 0
    return html
