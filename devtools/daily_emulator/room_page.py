"""Room pages: what a browser sees at a room `url` (`<public_url>/<room>?t=<token>`).

A real Daily room page runs Prebuilt; here it names the room and what the token grants, so a
developer clicking through Tutorium's frontend can check they landed in the right room with the
right rights. Every interpolated value is HTML-escaped: room names are safe by Daily's rules,
but user names come from tokens, i.e. from user input. The page can also join/leave through the
control endpoints so webhooks can be triggered by hand.
"""

from __future__ import annotations

import json
from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from .errors import JoinRefused
from .permissions import token_may_send_screen
from .runtime import EmulatorDep

router = APIRouter()

NOTICE = (
    "This is the Daily emulator, a development tool. No audio or video flows through it; "
    "joining here only simulates presence and fires Daily-shaped webhooks."
)

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}"
    ".note{background:#fff4d6;border:1px solid #e0b84c;padding:.75rem;border-radius:.4rem}"
    "dt{font-weight:600}dd{margin:0 0 .5rem 0}"
)

_SCRIPT = """
const cfg = JSON.parse(document.getElementById('cfg').textContent);
let pid = null;
async function post(path, body) {
  const r = await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'},
                               body: JSON.stringify(body)});
  const data = await r.json();
  document.getElementById('out').textContent = JSON.stringify(data, null, 2);
  return data;
}
document.getElementById('join').onclick = async () => {
  const data = await post(cfg.base + '/join', cfg.token ? {token: cfg.token} : {});
  if (data.participant_id) pid = data.participant_id;
};
document.getElementById('leave').onclick = () => pid && post(cfg.base + '/leave',
                                                               {participant_id: pid});
document.getElementById('share').onclick = () =>
  pid && post(cfg.base + '/screen-share', {participant_id: pid, sharing: true});
"""


def _page(title: str, body: str, status: int) -> HTMLResponse:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}<p class=note>{escape(NOTICE)}</p></body></html>"
    )
    return HTMLResponse(html, status_code=status)


def script_json(data: dict[str, str | None]) -> str:
    """JSON safe inside a <script> element (no `</script>` or `<!--` can survive)."""
    text = json.dumps(data)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@router.get("/{room_name}", response_class=HTMLResponse, include_in_schema=False)
def room_page(room_name: str, emulator: EmulatorDep, t: str | None = None) -> HTMLResponse:
    try:
        room, token = emulator.calls.check_entry(room_name, t)
    except JoinRefused as refused:
        title = "Room not found" if refused.kind == "no-room" else "Not allowed"
        body = (
            f"<h1>{escape(title)}</h1><p>Room <code>{escape(room_name)}</code>: "
            f"{escape(refused.msg)} (<code>{escape(refused.kind)}</code>).</p>"
        )
        return _page(title, body, refused.status)
    user_name = (token.user_name if token else None) or "(guest - no name in token)"
    owner = token.is_owner if token else False
    screenshare = token_may_send_screen(room, token)  # at join; the teacher may grant it later
    facts = {
        "Room": room.name,
        "Privacy": room.privacy,
        "User": user_name,
        "User id": (token.user_id if token else None) or "(none)",
        "Owner": "yes" if owner else "no",
        "Screen share allowed": "yes" if screenshare else "no",
    }
    listing = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts.items())
    cfg = script_json({"base": f"/_emulator/rooms/{room.name}", "token": t})
    body = (
        f"<h1>Daily room {escape(room.name)}</h1><dl>{listing}</dl>"
        "<button id=join>Join (simulated)</button> <button id=leave>Leave</button> "
        "<button id=share>Share screen</button>"
        f"<pre id=out></pre><script type=application/json id=cfg>{cfg}</script>"
        f"<script>{_SCRIPT}</script>"
    )
    return _page(f"Daily room {room.name}", body, 200)
