"""Stop signals that unwind like Ctrl-C.

A process manager, `kill`, a closed terminal or a cancelled CI job signals a runner alone, not
its process group; by default that kills the runner at once, and whatever it started (servers,
an embedded PostgreSQL) outlives it. Raised as KeyboardInterrupt instead, the signal unwinds the
runner's `finally`, which stops them as a Ctrl-C would.
"""

import signal


def unwind_on(*signals: signal.Signals) -> None:
    """From now on, each of `signals` raises KeyboardInterrupt in the main thread."""
    for stop_signal in signals:
        signal.signal(stop_signal, _raise_keyboard_interrupt)


def _raise_keyboard_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
