"""Abuse limits: failed room-code lookups, failed logins, registrations.

Built on `limits` (moving windows, in memory or in Redis so every worker and
machine shares one count). Only failures count for code lookups and logins —
a whole school behind one address must still be able to sign in — but while a
client is over a limit, every request of that kind is refused, a correct one
too, until the window passes: otherwise a guesser would learn which code was
right from the one request that did not get a 429. While Redis is down the counts are
kept in memory (`limit_storage`), so no request fails because of the limiter.
"""

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string

from app.core.config import Settings
from app.core.errors import TooManyRequests
from app.services.accounts.limit_storage import REDIS_TIMEOUT_S, FallbackRateLimiter


@dataclass(frozen=True)
class _Rule:
    item: RateLimitItem
    namespace: str


class AbuseGuard:
    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.enabled = settings.rate_limit_enabled
        self.storage = storage or _storage_from_url(settings.rate_limit_storage_url)
        self.limiter = FallbackRateLimiter(self.storage)
        self._code_lookup = parse(settings.rate_limit_join_code)
        self._login = _Rule(parse(settings.rate_limit_login), "login-email")
        self._login_ip = _Rule(parse(settings.rate_limit_login_ip), "login-ip")
        self._register = _Rule(parse(settings.rate_limit_register), "register-ip")

    def _code_rules(self, user_id: str, client_ip: str) -> list[tuple[_Rule, str]]:
        return [
            (_Rule(self._code_lookup, "code-user"), user_id),
            (_Rule(self._code_lookup, "code-ip"), client_ip),
        ]

    def _login_rules(self, email: str, client_ip: str) -> list[tuple[_Rule, str]]:
        return [(self._login, email.lower()), (self._login_ip, client_ip)]

    def ensure_code_lookup_allowed(self, user_id: str, client_ip: str) -> None:
        self._ensure_allowed(self._code_rules(user_id, client_ip), "Too many wrong room codes.")

    def record_failed_code_lookup(self, user_id: str, client_ip: str) -> None:
        self._hit(self._code_rules(user_id, client_ip))

    def ensure_login_allowed(self, email: str, client_ip: str) -> None:
        self._ensure_allowed(self._login_rules(email, client_ip), "Too many failed sign-ins.")

    def record_failed_login(self, email: str, client_ip: str) -> None:
        self._hit(self._login_rules(email, client_ip))

    def count_registration(self, client_ip: str) -> None:
        """Registrations count whether they succeed or not: each one is a new account."""
        if not self.enabled:
            return
        if not self.limiter.hit(self._register.item, self._register.namespace, client_ip):
            raise self._refusal([(self._register, client_ip)], "Too many registrations.")

    def _ensure_allowed(self, rules: list[tuple[_Rule, str]], message: str) -> None:
        if not self.enabled:
            return
        blocked = [
            (rule, key)
            for rule, key in rules
            if not self.limiter.test(rule.item, rule.namespace, key)
        ]
        if blocked:
            raise self._refusal(blocked, message)

    def _hit(self, rules: list[tuple[_Rule, str]]) -> None:
        if not self.enabled:
            return
        for rule, key in rules:
            self.limiter.hit(rule.item, rule.namespace, key)

    def _refusal(self, blocked: list[tuple[_Rule, str]], message: str) -> TooManyRequests:
        resets = [
            self.limiter.get_window_stats(rule.item, rule.namespace, key).reset_time
            for rule, key in blocked
        ]
        retry_after = math.ceil(max(resets) - time.time())
        return TooManyRequests(retry_after, f"{message} Try again in {max(1, retry_after)} s.")


def _storage_from_url(url: str) -> Storage:
    options: dict[str, float | str | bool] = {}
    if url.startswith("redis"):
        options = {
            "wrap_exceptions": True,
            "socket_timeout": REDIS_TIMEOUT_S,
            "socket_connect_timeout": REDIS_TIMEOUT_S,
        }
    storage = storage_from_string(url, **options)
    if not isinstance(storage, Storage):  # an `async+` URL would give an asyncio storage
        raise ValueError(f"RATE_LIMIT_STORAGE_URL must name a synchronous storage, not {url!r}")
    return storage
