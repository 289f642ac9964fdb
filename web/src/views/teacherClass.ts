import { endSession, getSession, joinSession, type Session } from '../api';
import { ClassCall } from '../call';
import { h, mount, notice } from '../dom';
import { explain } from '../errors';
import { attendancePanel } from './attendance';
import { liveRoster } from './roster';

function roomCodeBox(session: Session, say: (text: string) => void): HTMLElement {
  const code = h('output', { class: 'room-code', 'aria-label': 'Room code' }, session.room_code);
  const copy = h('button', {
    type: 'button',
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(session.room_code);
        say('Room code copied.');
      } catch {
        getSelection()?.selectAllChildren(code);
        say('Press Ctrl+C (⌘C) to copy the selected code.');
      }
    },
  }, 'Copy code');
  return h('div', { class: 'code-box' }, h('span', {}, 'Room code'), code, copy);
}

/** One class, the teacher's side: code, call, screen share, roster, end, attendance. */
export function showTeacherClass(sessionId: string): () => void {
  const status = notice();
  const frame = h('div', { class: 'frame', 'aria-label': 'Video call' });
  const roster = liveRoster(sessionId, status.say);
  const report = attendancePanel(sessionId, status.say);
  let call: ClassCall | undefined;

  const share = h('button', { type: 'button', disabled: true }, 'Share screen');
  const start = h('button', { type: 'button', class: 'primary' }, 'Start class');
  const end = h('button', { type: 'button', class: 'danger' }, 'End class');

  async function leaveCall(): Promise<void> {
    const current = call;
    call = undefined;
    share.disabled = true;
    share.textContent = 'Share screen';
    share.removeAttribute('aria-pressed');
    await current?.destroy().catch(() => undefined);
  }

  start.addEventListener('click', async () => {
    start.disabled = true;
    try {
      const info = await joinSession(sessionId);
      call = new ClassCall(frame, {
        onStatus: (text) => status.say(text),
        onFatal: (error) => status.say(`The call ended: ${error.errorMsg}`, true),
        onLeft: () => {
          share.disabled = true;
          start.disabled = false;
        },
        onSharing: (sharing) => {
          share.textContent = sharing ? 'Stop sharing' : 'Share screen';
          share.setAttribute('aria-pressed', String(sharing));
        },
      });
      await call.join(info);
      share.disabled = false;
    } catch (error) {
      start.disabled = false;
      status.say(explain(error), true);
    }
  });
  share.addEventListener('click', () => call?.toggleScreenShare());
  end.addEventListener('click', async () => {
    try {
      await endSession(sessionId);
      await leaveCall();
      status.say('The class has ended.');
      start.disabled = true;
      end.disabled = true;
      await report.refresh(); // the roster's feed ends by itself with `session.ended`
    } catch (error) {
      status.say(explain(error), true);
    }
  });

  getSession(sessionId)
    .then((session) => {
      const ended = session.status === 'ended';
      start.disabled = ended;
      end.disabled = ended;
      mount(
        h('p', {}, h('a', { href: '#/teacher' }, '← My sessions')),
        h('h1', {}, session.title),
        session.description ? h('p', {}, session.description) : null,
        roomCodeBox(session, status.say),
        status.element,
        h('div', { class: 'actions' }, start, share, end),
        frame,
        h('h2', {}, 'Roster'),
        roster.element,
        report.element,
      );
      void (ended ? roster.end() : roster.start());
      void report.refresh();
    })
    .catch((error) => {
      mount(h('h1', {}, 'Class'), status.element);
      status.say(explain(error), true);
    });

  return () => {
    roster.stop();
    void leaveCall();
  };
}
