"""The dev tools' own variables (`make run`, `make test`), read like the app's settings.

They come from the environment, else `.env`, else the defaults below, so everything
`.env.example` lists works from `.env` (the Makefile no longer fixes ports itself).
"""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.config import REPO_ROOT, Settings


class DevSettings(BaseSettings):
    # The app's .env and rules, and `TEST_DATABASE_URL=` in .env means "not set", as in a shell.
    model_config = Settings.model_config | SettingsConfigDict(env_ignore_empty=True)

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    emulator_port: int = Field(default=8787, ge=1, le=65535)
    # Where `make run` keeps the dev Daily secrets, the emulator's rooms and the embedded
    # PostgreSQL. A bench that runs `make run` beside a developer's points it elsewhere, so
    # the two emulators never overwrite each other's state file.
    dev_var_dir: Path = REPO_ROOT / "var"
    test_database_url: str | None = None
    test_redis_url: str | None = None
