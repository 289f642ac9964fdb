"""The daily-js stand-in offers nothing daily-js does not have: every static, method, property
and event name it exposes is checked against `index.d.ts` of the pinned `@daily-co/daily-js`
(web/package.json, installed by `npm ci`), so it cannot drift into an API Daily lacks."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from .conftest import WEB_DIR, WebStack

DAILY_JS = WEB_DIR / "node_modules" / "@daily-co" / "daily-js"
STANDIN_SOURCE = (
    Path(__file__).parents[2] / "devtools" / "daily_emulator" / "standin" / "daily-js.js"
)
INSPECT = """
import DailyIframe from '%s';
const call = DailyIframe.createCallObject();
const isPublic = (name) => !name.startsWith('_') && name !== 'constructor';
console.log(JSON.stringify({
  statics: Object.getOwnPropertyNames(DailyIframe).filter(
    (name) => typeof DailyIframe[name] === 'function'),
  members: [...Object.getOwnPropertyNames(DailyIframe.prototype), ...Object.keys(call)]
    .filter(isPublic),
  version: DailyIframe.version(),
}));
"""


def _block(types: str, opening: str) -> str:
    start = types.index(opening)
    return types[start : types.index("\n}", start)]


def _typed_names() -> dict[str, set[str]]:
    types = (DAILY_JS / "index.d.ts").read_text(encoding="utf-8")
    events = types[types.index("export type DailyEvent =") :]
    events = events[: events.index(";")]
    member = re.compile(r"^  (\w+)\s*[(<:?]", re.MULTILINE)
    statics = _block(types, "export interface DailyCallFactory {")
    statics += _block(types, "export interface DailyCallStaticUtils {")
    return {
        "events": set(re.findall(r"'([a-z-]+)'", events)),
        "statics": set(member.findall(statics)),
        "members": set(member.findall(_block(types, "export interface DailyCall {"))),
    }


def _standin_names(web: WebStack, tmp_path: Path) -> dict[str, object]:
    module = tmp_path / "daily-js.mjs"
    module.write_text(web.stack.emulator.get("/_emulator/daily-js.mjs").text, encoding="utf-8")
    script = INSPECT % module.as_uri()
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],  # noqa: S607 (Node.js from PATH)
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_every_name_the_standin_offers_is_in_the_pinned_daily_js(
    web: WebStack, tmp_path: Path
) -> None:
    typed = _typed_names()
    offered = _standin_names(web, tmp_path)
    source = STANDIN_SOURCE.read_text(encoding="utf-8")
    emitted = set(re.findall(r"'([a-z-]+)'", source[source.index("const EVENTS") :].split("];")[0]))
    assert {"createFrame", "createCallObject", "version"} <= set(offered["statics"])
    assert {"join", "leave", "startScreenShare", "on", "off", "once"} <= set(offered["members"])
    assert set(offered["statics"]) - typed["statics"] == set()
    assert set(offered["members"]) - typed["members"] == set()
    assert {"joined-meeting", "participant-updated", "error"} <= emitted
    assert emitted - typed["events"] == set()


def test_the_standin_mirrors_the_pinned_version(web: WebStack, tmp_path: Path) -> None:
    pinned = json.loads((WEB_DIR / "package.json").read_text())["dependencies"]
    installed = json.loads((DAILY_JS / "package.json").read_text())["version"]
    offered = _standin_names(web, tmp_path)
    assert pinned["@daily-co/daily-js"] == installed == offered["version"]
