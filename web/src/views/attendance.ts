import { attendance, type AttendanceRow } from '../api';
import { formatDuration, formatTime, h } from '../dom';
import { explain } from '../errors';

const CSV_COLUMNS: (keyof AttendanceRow)[] = [
  'full_name',
  'role',
  'first_joined_at',
  'last_left_at',
  'total_seconds',
  'join_count',
];

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  // Quote everything and neutralise spreadsheet formulas: names come from users.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function attendanceCsv(rows: AttendanceRow[]): string {
  const lines = [CSV_COLUMNS.join(','), ...rows.map((row) => CSV_COLUMNS.map((c) => csvCell(row[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

/** Attendance: each person's time in the call, and the same as a CSV file. */
export function attendancePanel(sessionId: string, say: (text: string, isError?: boolean) => void) {
  const body = h('tbody');
  let rows: AttendanceRow[] = [];
  const download = h('button', {
    type: 'button',
    onclick: () => {
      const blob = new Blob([attendanceCsv(rows)], { type: 'text/csv' });
      const link = h('a', { href: URL.createObjectURL(blob), download: `attendance-${sessionId}.csv` });
      link.click();
      URL.revokeObjectURL(link.href);
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
      rows = (await attendance(sessionId)).filter((row) => row.role === 'student');
      body.replaceChildren(
        ...rows.map((row) =>
          h(
            'tr',
            { 'data-user': row.full_name },
            h('td', {}, row.full_name),
            h('td', {}, formatTime(row.first_joined_at)),
            h('td', {}, formatTime(row.last_left_at)),
            h('td', { class: 'seconds', 'data-seconds': row.total_seconds }, formatDuration(row.total_seconds)),
          ),
        ),
      );
    } catch (error) {
      say(explain(error), true);
    }
  }
  return { element, refresh };
}
