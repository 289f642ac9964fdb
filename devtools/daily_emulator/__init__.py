"""A faithful local emulator of Daily's REST API, webhooks and call presence (like stripe-mock).

Run `python -m devtools.daily_emulator --help`, or build it in-process with
`create_app(EmulatorConfig(api_key=...))`. Development tool only: no audio or video flows.
"""

from .app import create_app
from .config import EmulatorConfig

__all__ = ["EmulatorConfig", "create_app"]
