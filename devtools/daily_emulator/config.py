"""Configuration of the Daily emulator: one dataclass, filled from CLI flags or env vars.

Every CLI flag has a `DAILY_EMULATOR_*` twin so the emulator can run in docker-compose or CI
without a wrapper script. Values are checked at construction time: a webhook secret that is not
base64 would only surface later as "signature mismatch" in the API, which is much harder to debug.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import os
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ENV_PREFIX = "DAILY_EMULATOR_"
DEFAULT_PORT = 8787


@dataclass
class EmulatorConfig:
    """How one emulator instance behaves; tests build it directly, the CLI via `parse_cli`."""

    api_key: str
    port: int = DEFAULT_PORT
    host: str = "127.0.0.1"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    public_url: str | None = None
    state_file: Path | None = None
    latency_ms: int = 0
    domain_name: str = "tutorium-emulator"
    domain_id: str | None = None
    webhook_retries: int = 3
    webhook_backoff_s: float = 0.25
    webhook_timeout_s: float = 5.0
    eject_sweep_interval_s: float = 0.5

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ValueError("api_key must not be empty")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if self.webhook_secret is not None:
            try:
                base64.b64decode(self.webhook_secret, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValueError("webhook_secret must be base64 (Daily's `hmac` format)") from exc
        if self.state_file is not None:
            self.state_file = Path(self.state_file)

    @property
    def base_url(self) -> str:
        """Where room pages live; room `url`s are `<base_url>/<room name>`."""
        return (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/")

    @property
    def api_url(self) -> str:
        """The value Tutorium should use as DAILY_API_URL."""
        return f"{self.base_url}/v1"

    def initial_domain_id(self) -> str:
        """Domain id for a fresh state: derived from the key so restarts without a state file
        still hand out the same id (self-signed tokens keep validating)."""
        return self.domain_id or str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"daily-emulator:{self.api_key}")
        )


def _build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    def default(name: str, fallback: str | None = None) -> str | None:
        return env.get(ENV_PREFIX + name, fallback)

    parser = argparse.ArgumentParser(
        prog="python -m devtools.daily_emulator",
        description="Local emulator of Daily's REST API and webhooks (development only).",
    )
    parser.add_argument("--host", default=default("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(default("PORT", str(DEFAULT_PORT)) or 0))
    parser.add_argument("--api-key", default=default("API_KEY"))
    parser.add_argument("--webhook-url", default=default("WEBHOOK_URL"))
    parser.add_argument("--webhook-secret", default=default("WEBHOOK_SECRET"))
    parser.add_argument("--public-url", default=default("PUBLIC_URL"))
    parser.add_argument("--state-file", default=default("STATE_FILE"))
    parser.add_argument("--latency-ms", type=int, default=int(default("LATENCY_MS", "0") or 0))
    return parser


def parse_cli(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> tuple[EmulatorConfig, list[str]]:
    """Build the config from flags (which win) and env vars.

    Returns the config and human notes about generated values (API key, webhook secret), which
    the caller prints: a generated key is useless unless the developer can copy it.
    """
    env = os.environ if environ is None else environ
    args = _build_parser(env).parse_args(argv)
    notes: list[str] = []
    api_key = args.api_key
    if not api_key:
        api_key = secrets.token_hex(16)
        notes.append(f"generated API key (use as DAILY_API_KEY): {api_key}")
    webhook_secret = args.webhook_secret
    if not webhook_secret:
        webhook_secret = base64.b64encode(secrets.token_bytes(32)).decode()
        notes.append(f"generated webhook secret (use as DAILY_WEBHOOK_SECRET): {webhook_secret}")
    config = EmulatorConfig(
        api_key=api_key,
        port=args.port,
        host=args.host,
        webhook_url=args.webhook_url or None,
        webhook_secret=webhook_secret,
        public_url=args.public_url or None,
        state_file=Path(args.state_file) if args.state_file else None,
        latency_ms=args.latency_ms,
    )
    return config, notes
