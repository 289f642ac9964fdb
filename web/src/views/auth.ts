import { signIn, signUp, type Role } from '../api';
import { actionForm, field, h, mount, notice } from '../dom';

/** Sign in, or sign up (then signed in at once). */
export function showAuth(onSignedIn: () => void, reason?: string): void {
  const status = notice();
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: true,
    minlength: 8,
  });
  const signInForm = actionForm(
    'Sign in',
    status.say,
    async () => {
      await signIn(email.value, password.value);
      onSignedIn();
    },
    field('Email', email),
    field('Password', password),
    h('button', { type: 'submit' }, 'Sign in'),
  );

  const newName = h('input', { type: 'text', name: 'full_name', autocomplete: 'name', required: true });
  const newEmail = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true });
  const newPassword = h('input', {
    type: 'password',
    name: 'new-password',
    autocomplete: 'new-password',
    required: true,
    minlength: 8,
  });
  const role = h(
    'select',
    { name: 'role' },
    h('option', { value: 'student' }, 'Student'),
    h('option', { value: 'teacher' }, 'Teacher'),
  );
  const signUpForm = actionForm(
    'New here? Sign up',
    status.say,
    async () => {
      await signUp({
        full_name: newName.value,
        email: newEmail.value,
        password: newPassword.value,
        role: role.value as Role,
      });
      await signIn(newEmail.value, newPassword.value);
      onSignedIn();
    },
    field('Full name', newName),
    field('Email address', newEmail),
    field('New password', newPassword),
    field('I am a', role),
    h('button', { type: 'submit' }, 'Sign up'),
  );
  mount(h('h1', {}, 'Welcome to Tutorium'), status.element, h('div', { class: 'columns' }, signInForm, signUpForm));
  if (reason) status.say(reason, true);
}
