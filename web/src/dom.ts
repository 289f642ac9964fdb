/** A few DOM helpers: the app is small enough that plain DOM beats a UI framework's weight. */
import { explain } from './errors';

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | boolean | number | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

/** A labelled input: the label names the field for screen readers and tests alike. */
export function field(label: string, input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement): HTMLElement {
  const id = `f-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input);
}

/** The status line every page has: polite for news, assertive for refusals. */
export function notice(): { element: HTMLElement; say: (text: string, isError?: boolean) => void } {
  const element = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  return {
    element,
    say(text: string, isError = false) {
      element.textContent = text;
      element.className = isError ? 'notice error' : 'notice';
      element.setAttribute('role', isError ? 'alert' : 'status');
    },
  };
}

export function mount(...children: Child[]): void {
  const app = document.getElementById('app')!;
  app.replaceChildren(...children.filter((c): c is Node | string => Boolean(c)));
  app.focus();
}

export function formatTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

export function formatDuration(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${seconds % 60} s`;
}

/**
 * A titled form whose submit runs `action`; a refusal is said in the page's status line with
 * the API's own message. Enter submits, as in any form, so it works from the keyboard.
 */
export function actionForm(
  title: string,
  say: (text: string, isError?: boolean) => void,
  action: () => Promise<void>,
  ...children: Child[]
): HTMLFormElement {
  const titleId = `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-title`;
  const onsubmit = async (event: Event) => {
    event.preventDefault();
    try {
      await action();
    } catch (error) {
      say(explain(error), true);
    }
  };
  return h('form', { 'aria-labelledby': titleId, onsubmit }, h('h2', { id: titleId }, title), ...children);
}
