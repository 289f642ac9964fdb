import { openFeed, removeParticipant, type RosterEntry, type RosterStatus } from '../api';
import { h } from '../dom';
import { explain } from '../errors';

const RECONNECT_MS = 1000;
const PARTICIPANT_MESSAGES = [
  'participant.seated',
  'participant.joined',
  'participant.left',
  'participant.removed',
];
const LABELS: Record<RosterStatus, string> = {
  seated: 'seated',
  in_call: 'in call',
  left: 'left',
  removed: 'removed',
};

/**
 * The live roster, from the session's feed: a snapshot, then one message per change (seated,
 * in the call, left, removed). A dropped feed reconnects with a fresh ticket, and the new
 * snapshot brings the roster up to date, so nothing missed is lost.
 */
export function liveRoster(sessionId: string, say: (text: string, isError?: boolean) => void) {
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'roster', 'aria-label': 'Roster' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Role'), h('th', {}, 'Status'), h('th', {}, ''))),
    body,
  );
  const people = new Map<string, RosterEntry>();
  let source: EventSource | undefined;
  let retry: number | undefined;
  let ended = false;

  function removeButton(person: RosterEntry): HTMLElement | string {
    if (person.role !== 'student' || person.status === 'removed' || ended) return '';
    return h('button', {
      type: 'button',
      'aria-label': `Remove ${person.name}`,
      onclick: async () => {
        try {
          await removeParticipant(sessionId, person.user_id);
          say(`${person.name} was removed.`);
        } catch (error) {
          say(explain(error), true);
        }
      },
    }, 'Remove');
  }

  function render(): void {
    body.replaceChildren(
      ...[...people.values()].map((person) => {
        const label = LABELS[person.status];
        return h(
          'tr',
          { 'data-user': person.name, 'data-status': label },
          h('td', {}, person.name),
          h('td', {}, person.role),
          h('td', { class: `status ${person.status}` }, label),
          h('td', {}, removeButton(person)),
        );
      }),
    );
  }

  function close(): void {
    window.clearTimeout(retry);
    source?.close();
    source = undefined;
  }

  async function connect(): Promise<void> {
    close();
    try {
      source = await openFeed(sessionId);
    } catch (error) {
      say(explain(error), true);
      if (!ended) retry = window.setTimeout(() => void connect(), RECONNECT_MS);
      return;
    }
    source.addEventListener('snapshot', (message) => {
      const snapshot = JSON.parse((message as MessageEvent<string>).data) as {
        session: { status: string };
        roster: RosterEntry[];
      };
      people.clear();
      for (const person of snapshot.roster) people.set(person.user_id, person);
      if (snapshot.session.status === 'ended') void end();
      else render();
    });
    for (const type of PARTICIPANT_MESSAGES) {
      source.addEventListener(type, (message) => {
        const change = JSON.parse((message as MessageEvent<string>).data) as RosterEntry;
        const before = people.get(change.user_id);
        // Removal is final (the API refuses their joins); the call's own `left` that follows
        // the ejection does not undo it.
        const status = before?.status === 'removed' ? 'removed' : change.status;
        people.set(change.user_id, { ...before, ...change, status });
        render();
      });
    }
    source.addEventListener('session.ended', () => void end());
    // A closed or refused stream (a ticket is good for one connection), or a `resync`: start
    // over with a new ticket; the snapshot that follows replaces what we had.
    const reconnect = () => {
      close();
      if (!ended) retry = window.setTimeout(() => void connect(), RECONNECT_MS);
    };
    source.addEventListener('resync', reconnect);
    source.onerror = reconnect;
  }

  /** The class is over: no feed, nobody left to remove. */
  async function end(): Promise<void> {
    ended = true;
    close();
    // Ending takes everyone out of the call at once; the feed sends `session.ended` for it,
    // not one `participant.left` per person.
    for (const person of people.values()) {
      if (person.status !== 'removed') person.status = 'left';
    }
    render();
  }

  return { element: table, start: connect, stop: close, end };
}
