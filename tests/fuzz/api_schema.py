"""The app and the schemathesis schema both fuzz tests drive, and the narrowed check they share.

The app is built once at import, as schemathesis collects operations then; each test binds
it to its own rolled-back database transaction (the `fuzz_app` fixture in conftest.py).
"""

import schemathesis
from schemathesis import CheckContext, Response
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.main import create_app
from tests.conftest import make_settings

SPECIAL_USE_DOMAIN = "special-use or reserved name"


def _refused_for_a_documented_rule(response: Response) -> bool:
    """A 422 for a rule JSON Schema cannot state, each written in the field's description:
    a schedule already over (depends on the clock) or an e-mail domain reserved for special
    use (`.test`; the `email` format allows it, email-validator does not)."""
    if response.status_code != 422:
        return False
    body = response.json()
    if body.get("code") == "session_in_past":
        return True
    errors = body.get("errors") or []
    return bool(errors) and all(
        error["loc"][-1] == "email" and SPECIAL_USE_DOMAIN in error["msg"] for error in errors
    )


@schemathesis.check
def positive_data_accepted_or_refused_by_a_documented_rule(
    ctx: CheckContext, response: Response, case: schemathesis.Case
) -> bool | None:
    """The built-in `positive_data_acceptance`, minus `_refused_for_a_documented_rule`."""
    if _refused_for_a_documented_rule(response):
        return None
    return positive_data_acceptance(ctx, response, case)


# Replaced by the narrowed check above in every test.
EXCLUDED_CHECKS = [positive_data_acceptance]

FUZZ_APP = create_app(make_settings(rate_limit_enabled=False))
# The live feed is excluded: a stream that lasts until the session ends has no body to
# validate, and tests/e2e/test_feed.py drives it over real HTTP.
schema = schemathesis.openapi.from_asgi("/openapi.json", FUZZ_APP).exclude(
    path_regex=r"/feed$", method="GET"
)
# Unknown query parameters are ignored, as FastAPI (and most HTTP APIs) do: an extra one is
# not invalid data here, so negative cases do not add them.
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], allow_extra_parameters=False
)
