import { createSession, listSessions, type Session, type SessionStatus } from '../api';
import { actionForm, field, formatTime, h, mount, notice } from '../dom';
import { explain } from '../errors';

const GROUPS: [SessionStatus, string][] = [
  ['active', 'Live'],
  ['scheduled', 'Upcoming'],
  ['ended', 'Ended'],
];

function sessionLink(session: Session): HTMLElement {
  return h(
    'li',
    {},
    h('a', { href: `#/teacher/sessions/${session.id}` }, session.title),
    ` · code ${session.room_code} · ${formatTime(session.scheduled_start_at ?? session.started_at)}`,
  );
}

/** The teacher's home: my sessions by status, and a form to create one. */
export function showSessions(): () => void {
  const status = notice();
  const lists = h('div', { class: 'columns' });
  const title = h('input', { type: 'text', name: 'title', required: true, maxlength: 200 });
  const description = h('textarea', { name: 'description', rows: 2, maxlength: 5000 });
  const seats = h('input', { type: 'number', name: 'seats', min: 1, max: 199, value: 30, required: true });
  const start = h('input', { type: 'datetime-local', name: 'start' });
  const duration = h('input', { type: 'number', name: 'duration', min: 5, max: 720, value: 60, required: true });

  async function refresh(): Promise<void> {
    try {
      const groups = await Promise.all(GROUPS.map(([key]) => listSessions(key)));
      lists.replaceChildren(
        ...GROUPS.map(([, label], i) =>
          h(
            'section',
            { 'aria-label': `${label} sessions` },
            h('h2', {}, `${label} (${groups[i].length})`),
            groups[i].length ? h('ul', {}, ...groups[i].map(sessionLink)) : h('p', {}, 'None.'),
          ),
        ),
      );
    } catch (error) {
      status.say(explain(error), true);
    }
  }

  const form = actionForm(
    'Create a session',
    status.say,
    async () => {
      const session = await createSession({
        title: title.value,
        description: description.value || undefined,
        max_participants: Number(seats.value),
        scheduled_start_at: start.value ? new Date(start.value).toISOString() : undefined,
        duration_minutes: Number(duration.value),
      });
      location.hash = `#/teacher/sessions/${session.id}`;
    },
    field('Title', title),
    field('Description', description),
    field('Seats', seats),
    field('Start time', start),
    field('Duration (minutes)', duration),
    h('button', { type: 'submit' }, 'Create session'),
  );
  mount(h('h1', {}, 'My sessions'), status.element, form, lists);
  void refresh();
  return () => undefined;
}
