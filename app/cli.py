"""Maintenance commands: `python -m app.cli reconcile [--dry-run]` (see README, "Reconcile")."""

import argparse
import sys
from collections.abc import Sequence

from app.core.config import Settings, get_settings
from app.core.logging import configure_logging
from app.db.session import build_engine, build_session_factory
from app.services.daily.client import DailyClient, build_http_client
from app.services.sessions.reconcile import reconcile


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser(
        "reconcile",
        help="mark expired sessions ended and delete our Daily rooms that no live session uses",
    )
    command.add_argument(
        "--dry-run", action="store_true", help="report what would change; change nothing"
    )
    return parser


def main(argv: Sequence[str] | None = None, *, settings: Settings | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    engine = build_engine(settings)
    http = build_http_client(settings)
    try:
        summary = reconcile(
            build_session_factory(engine),
            DailyClient(http, settings),
            prefix=settings.daily_room_prefix,
            check_rooms=settings.daily_api_key is not None,
            dry_run=args.dry_run,
        )
    finally:
        http.close()
        engine.dispose()
    for line in summary.lines():
        print(line)
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
