/**
 * Hash routes, so any static host can serve the built app:
 * `#/` sign in or up · `#/teacher` sessions · `#/teacher/sessions/<id>` a class ·
 * `#/student` enter a code · `#/student/sessions/<id>` in class.
 */
import './style.css';

import { SIGNED_OUT_EVENT, isSignedIn, me, signOut, type User } from './api';
import { h } from './dom';
import { showAuth } from './views/auth';
import { showClassroom } from './views/classroom';
import { showSessions } from './views/sessions';
import { showStudentHome } from './views/student';
import { showTeacherClass } from './views/teacherClass';

let cleanup: (() => void) | undefined;
let currentUser: User | undefined;
/** Bumped by each route(): a route that awaited while a newer one started gives way to it. */
let routing = 0;
/** Why the sign-in page is shown again, when the API stopped accepting our token. */
let signedOutReason: string | undefined;

function showWho(user: User | undefined): void {
  const who = document.getElementById('who')!;
  if (!user) {
    who.replaceChildren();
    return;
  }
  const leave = h('button', {
    type: 'button',
    class: 'link',
    onclick: () => {
      signOut();
      currentUser = undefined;
      location.hash = '#/';
      void route();
    },
  }, 'Sign out');
  who.replaceChildren(`${user.full_name} (${user.role}) `, leave);
}

async function route(): Promise<void> {
  const mine = ++routing;
  cleanup?.();
  cleanup = undefined;
  if (!isSignedIn()) currentUser = undefined;
  if (isSignedIn() && !currentUser) {
    const user = await me().catch(() => undefined);
    if (mine !== routing) return;
    currentUser = user;
  }
  showWho(currentUser);
  if (!currentUser) {
    showAuth(() => {
      currentUser = undefined;
      signedOutReason = undefined;
      void route();
    }, signedOutReason);
    return;
  }
  const [area, kind, id] = location.hash.replace(/^#\/?/, '').split('/');
  if (area !== currentUser.role) {
    location.hash = `#/${currentUser.role}`; // the hashchange routes again
    return;
  }
  if (currentUser.role === 'teacher') {
    cleanup = kind === 'sessions' && id ? showTeacherClass(id) : showSessions();
  } else {
    cleanup = kind === 'sessions' && id ? showClassroom(id) : showStudentHome();
  }
}

window.addEventListener('hashchange', () => void route());
window.addEventListener(SIGNED_OUT_EVENT, () => {
  signedOutReason = 'Your sign-in has expired. Please sign in again.';
  void route();
});
void route();
