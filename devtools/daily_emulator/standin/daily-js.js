// A stand-in for @daily-co/daily-js, served by the Daily emulator (development only).
//
// It mirrors the part of daily-js's typed public API (index.d.ts of the version below) that a
// Prebuilt integration uses, and drives the emulator's `/_emulator` controls instead of a media
// server: `join()` validates the token and records presence exactly like the room page (so the
// emulator sends its signed webhooks), the frame shows the emulator's room view, and changes in
// the room (people, screen shares, ejection, room deletion) reach the page as daily-js events by
// polling the emulator. No audio or video flows. The emulator prepends nothing and appends the
// module's export (`export default DailyIframe`) or a UMD wrapper to this file.

const DAILY_JS_VERSION = '0.87.0';

// Every event the stand-in emits; `_emit` refuses any other name, so this list is exactly what
// it offers (a test checks each one against the pinned index.d.ts).
const EVENTS = [
  'loading',
  'loaded',
  'joining-meeting',
  'joined-meeting',
  'participant-joined',
  'participant-updated',
  'participant-left',
  'left-meeting',
  'error',
  'nonfatal-error',
  'local-screen-share-started',
  'local-screen-share-stopped',
  'call-instance-destroyed',
];

const POLL_MS = 400;

// What the emulator says about a participant who is no longer in the call, as Daily's fatal
// error (`error` then `left-meeting`). `left` means they left from elsewhere: no error.
const DEPARTURE_ERRORS = {
  ejected: { type: 'ejected', msg: 'You were removed from the call' },
  'room-deleted': { type: 'no-room', msg: 'The room was deleted' },
};

const instances = new Map();

function trackState(playable, local) {
  return { subscribed: !local, state: playable ? 'playable' : 'off' };
}

function participantObject(entry, local) {
  const screen = Boolean(entry.sharing_screen);
  return {
    session_id: entry.participant_id,
    user_id: entry.user_id,
    user_name: entry.user_name,
    local,
    owner: entry.owner,
    joined_at: new Date(entry.joined_at * 1000),
    will_eject_at: new Date((entry.will_eject_at || 0) * 1000),
    permissions: entry.permissions,
    record: false,
    audio: false,
    video: false,
    screen,
    tracks: {
      audio: trackState(false, local),
      video: trackState(false, local),
      screenAudio: trackState(false, local),
      screenVideo: trackState(screen, local),
    },
    cam_info: {},
    screen_info: {},
  };
}

function roomAddress(url) {
  const parsed = new URL(url, globalThis.location ? globalThis.location.href : undefined);
  return { origin: parsed.origin, room: parsed.pathname.replace(/^\/+|\/+$/g, '') };
}

class DailyIframe {
  static createFrame(parentOrProperties, maybeProperties) {
    const hasParent =
      typeof HTMLElement !== 'undefined' && parentOrProperties instanceof HTMLElement;
    const parent = hasParent ? parentOrProperties : document.body;
    const properties = (hasParent ? maybeProperties : parentOrProperties) || {};
    const call = new DailyIframe(properties);
    const frame = document.createElement('iframe');
    frame.title = 'Daily call (emulator)';
    frame.allow = 'camera; microphone; fullscreen; display-capture';
    Object.assign(frame.style, { border: '0', width: '100%', height: '100%' });
    Object.assign(frame.style, properties.iframeStyle || {});
    frame.srcdoc = '<p style="font-family:system-ui">Daily emulator: not in a call yet.</p>';
    parent.appendChild(frame);
    call._frame = frame;
    return call;
  }

  static createCallObject(properties) {
    return new DailyIframe(properties || {});
  }

  static getCallInstance(callClientId) {
    if (callClientId) return instances.get(callClientId);
    return instances.values().next().value;
  }

  static version() {
    return DAILY_JS_VERSION;
  }

  constructor(properties) {
    this.callClientId = `${Date.now()}${Math.random().toString().slice(2)}`;
    this._properties = { ...properties };
    this._listeners = new Map();
    this._state = 'new';
    this._participants = {};
    this._frame = null;
    this._call = null;
    this._timer = null;
    this._polling = false;
    this._destroyed = false;
    this._onPageHide = () => this._dropConnection();
    instances.set(this.callClientId, this);
  }

  iframe() {
    return this._frame;
  }

  meetingState() {
    return this._state;
  }

  isDestroyed() {
    return this._destroyed;
  }

  participants() {
    return { ...this._participants };
  }

  // Any daily-js event name may be listened to (an app written for daily-js registers more);
  // the stand-in only ever emits the EVENTS above.
  on(event, listener) {
    if (!this._listeners.has(event)) this._listeners.set(event, []);
    this._listeners.get(event).push(listener);
    return this;
  }

  once(event, listener) {
    const wrapper = (payload) => {
      this.off(event, wrapper);
      listener(payload);
    };
    wrapper.listener = listener;
    return this.on(event, wrapper);
  }

  off(event, listener) {
    const listeners = this._listeners.get(event) || [];
    this._listeners.set(
      event,
      listeners.filter((fn) => fn !== listener && fn.listener !== listener),
    );
    return this;
  }

  async join(properties) {
    if (this._destroyed) throw new Error('Use after destroy');
    if (this._state === 'joining-meeting' || this._state === 'joined-meeting') {
      throw new Error('Already joined or joining meeting');
    }
    const options = { ...this._properties, ...(properties || {}) };
    if (!options.url) throw new Error('join() requires a url');
    const { origin, room } = roomAddress(options.url);
    for (const step of ['loading', 'loaded', 'joining-meeting']) {
      this._state = step;
      this._emit(step, {});
    }
    const request = { user_name: options.userName || undefined, token: options.token || undefined };
    let answer;
    try {
      answer = await fetch(`${origin}/_emulator/rooms/${encodeURIComponent(room)}/join`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(request),
      });
    } catch (failure) {
      throw this._fatal('connection-error', 'Failed to connect to the meeting', {
        on: 'join',
        sourceError: { message: String(failure) },
      });
    }
    const body = await answer.json().catch(() => ({}));
    if (!answer.ok) {
      throw this._fatal(body.type || 'connection-error', body.errorMsg || `HTTP ${answer.status}`);
    }
    this._call = { origin, room, localId: body.participant_id };
    this._participants = { local: participantObject(body, true) };
    this._state = 'joined-meeting';
    if (this._frame) {
      this._frame.removeAttribute('srcdoc');
      this._frame.src =
        `${origin}/_emulator/rooms/${encodeURIComponent(room)}/view` +
        `?participant_id=${encodeURIComponent(body.participant_id)}`;
    }
    globalThis.addEventListener?.('pagehide', this._onPageHide);
    await this._poll(false);
    this._emit('joined-meeting', { participants: this.participants() });
    this._timer = setInterval(() => this._poll(true), POLL_MS);
    return this.participants();
  }

  async leave() {
    if (this._state !== 'joined-meeting') return;
    const { origin, room, localId } = this._call;
    this._stop();
    await fetch(`${origin}/_emulator/rooms/${encodeURIComponent(room)}/leave`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ participant_id: localId }),
    }).catch(() => undefined);
    this._state = 'left-meeting';
    this._emit('left-meeting', {});
  }

  async destroy() {
    await this.leave();
    if (this._frame) this._frame.remove();
    this._frame = null;
    this._destroyed = true;
    instances.delete(this.callClientId);
    this._emit('call-instance-destroyed', {});
  }

  startScreenShare() {
    this._share(true);
  }

  stopScreenShare() {
    this._share(false);
  }

  _share(sharing) {
    if (this._state !== 'joined-meeting') {
      const name = sharing ? 'startScreenShare' : 'stopScreenShare';
      throw new Error(`${name}() requires preAuth(), startCamera(), or join()`);
    }
    const { origin, room, localId } = this._call;
    fetch(`${origin}/_emulator/rooms/${encodeURIComponent(room)}/screen-share`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ participant_id: localId, sharing }),
    })
      .then((answer) => {
        if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
        return this._poll(true);
      })
      .catch((failure) => {
        this._emit('nonfatal-error', {
          type: 'screen-share-error',
          errorMsg: `screen share failed: ${failure.message}`,
        });
      });
  }

  async _poll(announce) {
    if (this._polling || !this._call) return;
    this._polling = true;
    try {
      const { origin, room, localId } = this._call;
      const answer = await fetch(
        `${origin}/_emulator/rooms/${encodeURIComponent(room)}/call` +
          `?participant_id=${encodeURIComponent(localId)}`,
      );
      if (answer.ok && this._call) this._apply(await answer.json(), announce);
    } catch {
      // A missed poll is retried on the next tick, as daily-js rides out a network blip.
    } finally {
      this._polling = false;
    }
  }

  _apply(call, announce) {
    if (call.departure) {
      this._takenOut(call.departure);
      return;
    }
    const present = new Set();
    for (const entry of call.participants) {
      const local = entry.participant_id === this._call.localId;
      const key = local ? 'local' : entry.participant_id;
      const before = this._participants[key];
      const after = participantObject(entry, local);
      present.add(key);
      this._participants[key] = after;
      if (!announce) continue;
      if (!before && !local) this._emit('participant-joined', { participant: after });
      if (before && before.screen !== after.screen) {
        this._emit('participant-updated', { participant: after });
        if (local) {
          this._emit(after.screen ? 'local-screen-share-started' : 'local-screen-share-stopped', {});
        }
      }
    }
    for (const key of Object.keys(this._participants)) {
      if (present.has(key)) continue;
      const gone = this._participants[key];
      delete this._participants[key];
      if (announce) this._emit('participant-left', { participant: gone });
    }
  }

  _takenOut(departure) {
    this._stop();
    this._participants = {};
    const error = DEPARTURE_ERRORS[departure];
    if (error) {
      this._state = 'error';
      this._emit('error', { errorMsg: error.msg, error: { ...error } });
    } else {
      this._state = 'left-meeting';
    }
    this._emit('left-meeting', {});
  }

  _fatal(type, msg, details) {
    this._state = 'error';
    const error = details ? { type, msg, details } : { type, msg };
    this._emit('error', { errorMsg: msg, error });
    return new Error(msg);
  }

  // A page that goes away (reload, tab closed) drops its connection, and Daily's server notices
  // and lets the participant go; here a beacon tells the emulator at once. Plain text needs no
  // CORS preflight, which a beacon cannot make.
  _dropConnection() {
    if (!this._call) return;
    const { origin, room, localId } = this._call;
    const body = new Blob([JSON.stringify({ participant_id: localId })], { type: 'text/plain' });
    navigator.sendBeacon(`${origin}/_emulator/rooms/${encodeURIComponent(room)}/leave`, body);
  }

  _stop() {
    globalThis.removeEventListener?.('pagehide', this._onPageHide);
    clearInterval(this._timer);
    this._timer = null;
    this._call = null;
  }

  _emit(event, payload) {
    if (!EVENTS.includes(event)) throw new Error(`the daily-js stand-in has no event '${event}'`);
    const message = { action: event, callClientId: this.callClientId, ...payload };
    for (const listener of [...(this._listeners.get(event) || [])]) {
      try {
        listener(message);
      } catch (failure) {
        console.error(failure);
      }
    }
  }
}
