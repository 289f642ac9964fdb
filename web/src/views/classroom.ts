import { TutoriumError } from '@tutorium/client';

import { getSession, joinSession, type JoinInfo } from '../api';
import { ClassCall } from '../call';
import { h, mount, notice } from '../dom';
import { explain } from '../errors';

/** How long a refused share may stay silent before the page says so: daily-js's
 * `startScreenShare()` returns nothing and fires no event when the token does not allow it. */
const SHARE_WAIT_MS = 3000;

let pendingJoin: JoinInfo | undefined;

/** The join the code form just made, so entering the class does not ask twice. */
export function rememberJoin(info: JoinInfo): void {
  pendingJoin = info;
}

function takeJoin(sessionId: string): Promise<JoinInfo> {
  const info = pendingJoin?.session_id === sessionId ? pendingJoin : undefined;
  pendingJoin = undefined;
  // A reload has no join in memory: join again (the API's join is idempotent, the token fresh).
  return info ? Promise.resolve(info) : joinSession(sessionId);
}

/** One class, the student's side: the call in the frame and what happened to it. */
export function showClassroom(sessionId: string): () => void {
  const status = notice();
  const frame = h('div', { class: 'frame', 'aria-label': 'Video call' });
  const share = h('button', { type: 'button', disabled: true }, 'Share screen');
  const rejoin = h('button', { type: 'button', hidden: true }, 'Rejoin');
  let call: ClassCall | undefined;
  let shareTimer: number | undefined;

  async function explainLeaving(fallback: string): Promise<void> {
    try {
      const session = await getSession(sessionId);
      status.say(session.status === 'ended' ? 'This class has ended.' : fallback, true);
    } catch (error) {
      status.say(error instanceof TutoriumError ? explain(error) : fallback, true);
    }
    rejoin.hidden = false;
  }

  async function enter(infoPromise: Promise<JoinInfo>): Promise<void> {
    rejoin.hidden = true;
    try {
      const info = await infoPromise;
      await call?.destroy().catch(() => undefined);
      frame.replaceChildren();
      call = new ClassCall(frame, {
        onStatus: (text) => status.say(text),
        onFatal: (error) => void explainLeaving(`You are out of the call: ${error.errorMsg}`),
        onLeft: () => {
          share.disabled = true;
        },
        onSharing: (sharing) => {
          window.clearTimeout(shareTimer);
          share.textContent = sharing ? 'Stop sharing' : 'Share screen';
          if (sharing) status.say('You are sharing your screen.');
        },
      });
      await call.join(info);
      share.disabled = false;
    } catch (error) {
      status.say(explain(error), true);
      rejoin.hidden = false;
    }
  }

  share.addEventListener('click', () => {
    if (!call) return;
    const wasSharing = call.isSharing();
    call.toggleScreenShare();
    if (wasSharing) return;
    shareTimer = window.setTimeout(
      () => status.say('Screen sharing did not start: this class does not let you share.', true),
      SHARE_WAIT_MS,
    );
  });
  rejoin.addEventListener('click', () => void enter(joinSession(sessionId)));

  mount(
    h('p', {}, h('a', { href: '#/student' }, '← Another class')),
    h('h1', {}, 'Your class'),
    status.element,
    h('div', { class: 'actions' }, share, rejoin),
    frame,
  );
  void enter(takeJoin(sessionId));
  return () => {
    window.clearTimeout(shareTimer);
    void call?.destroy().catch(() => undefined);
  };
}
