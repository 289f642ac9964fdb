import { attendance, participants, removeParticipant } from '../api';
import { h } from '../dom';
import { explain } from '../errors';

export const ROSTER_POLL_MS = 1000;

type RosterStatus = 'in call' | 'seated' | 'left' | 'removed';

/**
 * The live roster: who holds a seat, who is in the call now (the API's presence, kept true by
 * Daily's webhooks), who left, who was removed. Polled each second until the live feed lands.
 */
export function liveRoster(sessionId: string, say: (text: string, isError?: boolean) => void) {
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'roster', 'aria-label': 'Roster' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Role'), h('th', {}, 'Status'), h('th', {}, ''))),
    body,
  );
  let timer: number | undefined;
  let ended = false;

  async function refresh(): Promise<void> {
    try {
      const [seats, rows] = await Promise.all([participants(sessionId), attendance(sessionId)]);
      const present = new Set(rows.filter((r) => r.present_now).map((r) => r.user_id));
      body.replaceChildren(
        ...seats.map((seat) => {
          const status: RosterStatus = seat.removed
            ? 'removed'
            : present.has(seat.user_id)
              ? 'in call'
              : seat.status === 'joined'
                ? 'seated'
                : 'left';
          const remove =
            seat.role === 'student' && !seat.removed && !ended
              ? h('button', {
                  type: 'button',
                  'aria-label': `Remove ${seat.full_name}`,
                  onclick: async () => {
                    try {
                      await removeParticipant(sessionId, seat.user_id);
                      say(`${seat.full_name} was removed.`);
                      await refresh();
                    } catch (error) {
                      say(explain(error), true);
                    }
                  },
                }, 'Remove')
              : '';
          return h(
            'tr',
            { 'data-user': seat.full_name, 'data-status': status },
            h('td', {}, seat.full_name),
            h('td', {}, seat.role),
            h('td', { class: `status ${status.replace(' ', '-')}` }, status),
            h('td', {}, remove),
          );
        }),
      );
    } catch (error) {
      say(explain(error), true);
    }
  }

  return {
    element: table,
    refresh,
    start(): void {
      void refresh();
      timer = window.setInterval(() => void refresh(), ROSTER_POLL_MS);
    },
    stop(): void {
      window.clearInterval(timer);
    },
    /** The class is over: no more polling, nobody left to remove. */
    async end(): Promise<void> {
      ended = true;
      window.clearInterval(timer);
      await refresh();
    },
  };
}
