import { joinByCode } from '../api';
import { field, h, mount, notice } from '../dom';
import { explain } from '../errors';
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
  const form = h(
    'form',
    {
      'aria-labelledby': 'code-title',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        try {
          const info = await joinByCode(code.value.trim());
          rememberJoin(info);
          location.hash = `#/student/sessions/${info.session_id}`;
        } catch (error) {
          status.say(explain(error), true);
        }
      },
    },
    h('h2', { id: 'code-title' }, 'Join a class'),
    field('Room code', code),
    h('button', { type: 'submit', class: 'primary' }, 'Join class'),
  );
  mount(h('h1', {}, 'Join your class'), status.element, form);
  return () => undefined;
}
