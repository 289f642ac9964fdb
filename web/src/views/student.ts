import { joinByCode } from '../api';
import { actionForm, field, h, mount, notice } from '../dom';
import { rememberJoin } from './classroom';

/** The student's home: type the code the teacher shows (case, spaces, hyphens are forgiven). */
export function showStudentHome(): () => void {
  const status = notice();
  const code = h('input', {
    type: 'text',
    name: 'room_code',
    required: true,
    maxlength: 32,
    autocomplete: 'off',
    autocapitalize: 'characters',
    spellcheck: 'false',
    placeholder: 'ABCD-EFGH',
  });
  const form = actionForm(
    'Join a class',
    status.say,
    async () => {
      const info = await joinByCode(code.value.trim());
      rememberJoin(info);
      location.hash = `#/student/sessions/${info.session_id}`;
    },
    field('Room code', code),
    h('button', { type: 'submit', class: 'primary' }, 'Join class'),
  );
  mount(h('h1', {}, 'Join your class'), status.element, form);
  return () => undefined;
}
