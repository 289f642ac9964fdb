"""`python -m devtools.daily_emulator`: print the banner, then serve with uvicorn."""

from __future__ import annotations

import sys

import uvicorn

from .app import create_app
from .config import EmulatorConfig, parse_cli

BANNER = """\
================================================================================
 Daily API emulator - DEVELOPMENT TOOL ONLY
 No audio or video flows through it; calls are simulated with /_emulator/ controls.
 Never point production at it.
================================================================================"""


def banner(config: EmulatorConfig, domain_id: str, notes: list[str]) -> str:
    lines = [
        BANNER,
        f" DAILY_API_URL     {config.api_url}",
        f" room pages        {config.base_url}/<room>",
        f" controls          {config.base_url}/_emulator (docs: /_emulator/docs)",
        f" domain_id         {domain_id}",
        f" webhook URL       {config.webhook_url or '(none: events are recorded, not sent)'}",
        f" latency           {config.latency_ms} ms per /v1 call",
        f" state file        {config.state_file or '(none: state is lost on exit)'}",
        *(f" {note}" for note in notes),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    config, notes = parse_cli(argv)
    app = create_app(config)
    print(banner(config, app.state.emulator.store.domain_id, notes), file=sys.stderr, flush=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level="info")


if __name__ == "__main__":
    main()
