"""The room view the stand-in's frame shows in place of Daily Prebuilt: who is in the call, who
shares a screen, and, once the viewer is out, why. It polls the call state, so a screenshot of
a page embedding the frame says what happened in the emulated call.

The page carries no token: it knows the room and the viewer's participant id only.
"""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

from .room_page import script_json

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;padding:.75rem;background:#1f2933;color:#f5f7fa}
h1{font-size:1rem;margin:0 0 .5rem}
ul{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:.5rem}
li{background:#323f4b;border-radius:.4rem;padding:.6rem .8rem;min-width:8rem}
li.sharing{outline:3px solid #3ebd93}
.badge{font-size:.75rem;background:#52606d;border-radius:.3rem;padding:0 .3rem;margin-left:.3rem}
#screen{margin:.75rem 0;padding:1.5rem;border:2px dashed #3ebd93;border-radius:.4rem;
  font-size:1.1rem;text-align:center}
#status{margin-top:.5rem;font-weight:600}
.note{font-size:.75rem;color:#9aa5b1;margin-top:.75rem}
"""

_SCRIPT = """
const cfg = JSON.parse(document.getElementById('cfg').textContent);
const DEPARTED = {left: 'You left the call.', ejected: 'You were removed from the call.',
                  'room-deleted': 'The room was deleted; the call is over.'};
function item(p) {
  const li = document.createElement('li');
  li.textContent = p.user_name || '(no name)';
  const tags = [];
  if (p.participant_id === cfg.participant_id) tags.push('you');
  if (p.owner) tags.push('owner');
  if (p.sharing_screen) tags.push('sharing screen');
  for (const tag of tags) {
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = tag;
    li.appendChild(badge);
  }
  if (p.sharing_screen) li.className = 'sharing';
  return li;
}
async function refresh() {
  const url = `/_emulator/rooms/${encodeURIComponent(cfg.room)}/call` +
              `?participant_id=${encodeURIComponent(cfg.participant_id)}`;
  const call = await (await fetch(url)).json();
  const list = document.getElementById('people');
  list.replaceChildren(...call.participants.map(item));
  const sharers = call.participants.filter((p) => p.sharing_screen);
  const screen = document.getElementById('screen');
  screen.hidden = sharers.length === 0;
  screen.textContent = sharers.map((p) => `${p.user_name || 'Someone'} is sharing their screen`)
                              .join(' · ');
  document.getElementById('status').textContent = call.departure
    ? DEPARTED[call.departure] || 'You are not in the call.'
    : `In the call: ${call.participants.length} present.`;
  if (!call.departure) setTimeout(refresh, 500);
}
refresh();
"""


def room_view_page(room: str, participant_id: str) -> HTMLResponse:
    cfg = script_json({"room": room, "participant_id": participant_id})
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Daily room {escape(room)} (emulator)</title><style>{_STYLE}</style></head>"
        f'<body><h1 data-room="{escape(room)}">Daily room {escape(room)} - emulator</h1>'
        "<div id=screen hidden></div><ul id=people aria-live=polite></ul>"
        "<p id=status role=status></p>"
        "<p class=note>Daily emulator: no audio or video flows here.</p>"
        f"<script type=application/json id=cfg>{cfg}</script><script>{_SCRIPT}</script>"
        "</body></html>"
    )
    return HTMLResponse(html)
