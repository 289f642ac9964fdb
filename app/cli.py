"""Maintenance commands (see README, "Reconcile" and "Webhooks"):

python -m app.cli reconcile [--dry-run]
python -m app.cli webhook ensure    create or update (and re-activate) Daily's webhook
python -m app.cli webhook status    print its state; exit 1 unless it is ACTIVE
"""

import argparse
import sys
from collections.abc import Sequence

from app.core.config import Settings, get_settings
from app.core.errors import TutoriumError
from app.core.logging import configure_logging
from app.db.session import build_engine, build_session_factory
from app.services.daily.client import DailyClient, build_http_client
from app.services.reconcile import reconcile
from app.services.webhooks import subscription


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.cli", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser(
        "reconcile",
        help="mark expired sessions ended and delete our Daily rooms that no live session uses",
    )
    command.add_argument(
        "--dry-run", action="store_true", help="report what would change; change nothing"
    )
    webhook = commands.add_parser("webhook", help="Daily's webhook for PUBLIC_BASE_URL")
    webhook.add_argument("action", choices=("ensure", "status"))
    return parser


def main(argv: Sequence[str] | None = None, *, settings: Settings | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    http = build_http_client(settings)
    try:
        daily = DailyClient(http, settings)
        if args.command == "webhook":
            return _webhook(daily, settings, args.action)
        return _reconcile(daily, settings, dry_run=args.dry_run)
    finally:
        http.close()


def _reconcile(daily: DailyClient, settings: Settings, *, dry_run: bool) -> int:
    engine = build_engine(settings)
    try:
        summary = reconcile(
            build_session_factory(engine),
            daily,
            prefix=settings.daily_room_prefix,
            check_rooms=settings.daily_api_key is not None,
            dry_run=dry_run,
            settings=settings,
        )
    finally:
        engine.dispose()
    for line in summary.lines():
        print(line)
    return 0 if summary.ok else 1


def _webhook(daily: DailyClient, settings: Settings, action: str) -> int:
    try:
        if action == "ensure":
            report = subscription.ensure(daily, settings)
        else:
            report = subscription.status(daily, settings)
    except subscription.WebhookNotConfigured as exc:
        print(f"Daily webhook: not configured ({exc})")
        return 1
    except TutoriumError as exc:
        print(f"Daily webhook: Daily refused or failed ({exc.code})")
        return 1
    print(report.line())
    return 0 if report.active else 1


if __name__ == "__main__":
    sys.exit(main())
