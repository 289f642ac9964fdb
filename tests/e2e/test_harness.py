"""The e2e harness itself: the API processes it starts are configured by it alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.config import Settings
from tests.e2e.stack import api_environment


def test_a_leftover_env_file_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = api_environment(
        environment="test",
        database_url="postgresql+psycopg2://postgres@127.0.0.1:5432/e2e",
        secret_key="e2e-secret-key-that-is-long-enough-0123456789",
        daily_api_key="e2e-key",
        daily_webhook_secret="ZTJlLXNlY3JldA==",
        public_base_url="http://127.0.0.1:8000",
        daily_token_mode="api",
    )
    leftover = tmp_path / ".env"
    leftover.write_text("".join(f"{name}=from-a-leftover-file\n" for name in env))
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    loaded = Settings(_env_file=leftover)  # type: ignore[call-arg]

    assert api_environment(**loaded.model_dump()) == env
