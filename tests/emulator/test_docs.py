"""The emulator's Swagger UI works offline too."""

from tests.docs_pages import assert_served_offline
from tests.emulator.conftest import Emulated


def test_emulator_docs_are_served_offline(emu: Emulated) -> None:
    html = assert_served_offline(emu.anon, "/_emulator/docs")
    assert '"persistAuthorization": true' in html
    assert "/_emulator/openapi.json" in html
