import { attendance, attendanceCsv, type AttendanceRow } from '../api';
import { formatDuration, formatTime, h } from '../dom';
import { explain } from '../errors';

/** Attendance: each student's time in the call, and the API's CSV of it as a download. */
export function attendancePanel(sessionId: string, say: (text: string, isError?: boolean) => void) {
  const body = h('tbody');
  const download = h('button', {
    type: 'button',
    onclick: async () => {
      try {
        const file = await attendanceCsv(sessionId);
        const link = h('a', { href: URL.createObjectURL(file), download: `attendance-${sessionId}.csv` });
        link.click();
        URL.revokeObjectURL(link.href);
      } catch (error) {
        say(explain(error), true);
      }
    },
  }, 'Download CSV');
  const element = h(
    'section',
    { 'aria-labelledby': 'attendance-title' },
    h('h2', { id: 'attendance-title' }, 'Attendance'),
    h(
      'table',
      { class: 'attendance', 'aria-label': 'Attendance' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'First joined'), h('th', {}, 'Last left'), h('th', {}, 'Time in call'))),
      body,
    ),
    download,
  );
  async function refresh(): Promise<void> {
    try {
      const students = (await attendance(sessionId)).filter((row: AttendanceRow) => row.role === 'student');
      body.replaceChildren(
        ...students.map((row) =>
          h(
            'tr',
            { 'data-user': row.full_name },
            h('td', {}, row.full_name),
            h('td', {}, formatTime(row.first_joined_at)),
            h('td', {}, formatTime(row.last_left_at)),
            h('td', { 'data-seconds': row.total_seconds }, formatDuration(row.total_seconds)),
          ),
        ),
      );
    } catch (error) {
      say(explain(error), true);
    }
  }
  return { element, refresh };
}
