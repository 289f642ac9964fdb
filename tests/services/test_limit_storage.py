"""The limiter's fallback: in memory while the shared storage fails, asked again once a second."""

from limits import parse
from limits.errors import StorageError
from limits.storage import MemoryStorage

from app.core.config import Settings
from app.services.accounts.limit_storage import (
    PROBE_INTERVAL_S,
    REDIS_TIMEOUT_S,
    FallbackRateLimiter,
    StorageState,
)
from app.services.accounts.rate_limits import AbuseGuard

LIMIT = parse("2/minute")


class FlakyStorage(MemoryStorage):
    """A shared storage (not MemoryStorage to the limiter) that fails while `down`."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.calls = 0

    def acquire_entry(self, *args: object, **kwargs: object) -> bool:
        self.calls += 1
        if self.down:
            raise StorageError(ConnectionError("refused"))
        return super().acquire_entry(*args, **kwargs)  # type: ignore[arg-type]

    def check(self) -> bool:
        return not self.down


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _limiter(storage: FlakyStorage, clock: Clock) -> FallbackRateLimiter:
    # The fake keeps its counts in memory, but stands for Redis.
    return FallbackRateLimiter(storage, shared=True, clock=clock)


def test_a_failing_storage_is_asked_again_once_per_interval() -> None:
    storage, clock = FlakyStorage(), Clock()
    limiter = _limiter(storage, clock)
    storage.down = True
    assert [limiter.hit(LIMIT, "k") for _ in range(3)] == [True, True, False]  # same rule
    assert limiter.state is StorageState.DEGRADED
    assert storage.calls == 1  # the first hit failed; the others did not ask again

    storage.down = False
    clock.now += PROBE_INTERVAL_S
    assert limiter.hit(LIMIT, "k") is True  # asked again: back on the shared counts
    assert limiter.state is StorageState.OK
    assert storage.calls == 2


def test_readiness_check_asks_the_storage_at_once() -> None:
    storage, clock = FlakyStorage(), Clock()
    limiter = _limiter(storage, clock)
    storage.down = True
    assert limiter.check() is StorageState.DEGRADED
    storage.down = False
    assert limiter.check() is StorageState.OK


def test_redis_calls_time_out_quickly() -> None:
    settings = Settings(_env_file=None, rate_limit_storage_url="redis://127.0.0.1:1/0")  # type: ignore[call-arg]
    guard = AbuseGuard(settings)
    options = guard.storage.storage.connection_pool.connection_kwargs  # type: ignore[attr-defined]
    assert options["socket_timeout"] == REDIS_TIMEOUT_S
    assert options["socket_connect_timeout"] == REDIS_TIMEOUT_S
