"""`make test-client`: the TypeScript client against the live API and the Daily emulator.

Starts both as real processes (the e2e harness's `start_stack`) on a fresh database of
their own (TEST_DATABASE_URL's name plus `_client`), then, in clients/typescript/:
1. regenerates the types from the running API's /openapi.json and fails if they differ
   from the committed `src/schema.d.ts` (run `make client-types` to update them);
2. type-checks and builds the package with `tsc`;
3. runs its node:test suites (the teacher and student flows) against the live API.
Node.js and `npm ci` are this target's only needs beyond the Python venv.
"""

import filecmp
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from app.core.config import REPO_ROOT
from devtools.testdb import fresh_test_database, migrate

CLIENT_DIR = REPO_ROOT / "clients" / "typescript"
SCHEMA_FILE = CLIENT_DIR / "src" / "schema.d.ts"


def _npm(*args: str, env: dict[str, str]) -> None:
    subprocess.run(["npm", *args], cwd=CLIENT_DIR, env=env, check=True)


def main() -> None:
    # The e2e harness lives with the tests; it is imported, not copied.
    from tests.e2e.stack import start_stack

    update = "--update" in sys.argv[1:]
    with (
        tempfile.TemporaryDirectory(prefix="tutorium-client-") as workdir,
        fresh_test_database(os.environ.get("TEST_DATABASE_URL")) as url,
    ):
        migrate(url)
        database_url = url.render_as_string(hide_password=False)
        # The flows sign one expired access token themselves, to test the refresh.
        secret_key = secrets.token_urlsafe(48)
        stack = start_stack("self_signed", database_url, Path(workdir), secret_key=secret_key)
        try:
            env = {
                **os.environ,
                "TUTORIUM_API_URL": stack.api_url,
                "TUTORIUM_EMULATOR_URL": stack.emulator_url,
                "TUTORIUM_OPENAPI_URL": f"{stack.api_url}/openapi.json",
                "TUTORIUM_TEST_SECRET_KEY": secret_key,
            }
            generated = Path(workdir) / "schema.d.ts"
            _npm("run", "--silent", "generate", env={**env, "TUTORIUM_SCHEMA_OUT": str(generated)})
            if update:
                SCHEMA_FILE.write_bytes(generated.read_bytes())
            elif not filecmp.cmp(generated, SCHEMA_FILE, shallow=False):
                subprocess.run(["diff", "-u", str(SCHEMA_FILE), str(generated)], check=False)
                sys.exit(
                    "client_check: src/schema.d.ts is not what the API serves; "
                    "run `make client-types` and commit it"
                )
            _npm("run", "--silent", "build", env=env)
            if not update:
                _npm("test", env=env)
        except subprocess.CalledProcessError as failed:
            print(f"--- API log ---\n{stack.api_server.tail()}", file=sys.stderr)
            sys.exit(f"client_check: {' '.join(map(str, failed.cmd))} failed")
        finally:
            stack.close()


if __name__ == "__main__":
    main()
