/**
 * The app's one door to Tutorium's API, built on the typed client in `clients/typescript`
 * (types generated from the API's /openapi.json, requests through openapi-fetch): every path,
 * body and answer here is checked by the compiler against the API itself.
 *
 * The tokens live in localStorage so a reload keeps you signed in. An expired access token is
 * renewed by the client with the refresh token (and the call retried); any other 401, or a
 * refused refresh, means the sign-in is over, and the app asks you to sign in again. Errors are the client's
 * `TutoriumError`, carrying the API's own `code`, `detail` and Retry-After.
 */
import { createTutoriumClient, ok, type Schemas, type Tokens, type TokenStore } from '@tutorium/client';

export type User = Schemas['UserRead'];
export type Role = Schemas['UserRole'];
export type Session = Schemas['SessionRead'];
export type SessionStatus = Schemas['SessionStatus'];
export type SessionDraft = Schemas['SessionCreate'];
export type JoinInfo = Schemas['JoinInfo'];
export type AttendanceRow = Schemas['AttendanceRow'];
export type RosterEntry = Schemas['RosterEntry'];
export type RosterStatus = RosterEntry['status'];

const STORAGE_KEY = 'tutorium.tokens';

/** Fired on `window` when the API no longer accepts our token, so the app asks to sign in. */
export const SIGNED_OUT_EVENT = 'tutorium:signed-out';

function readTokens(): Tokens | null {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === null) return null;
  try {
    const tokens = JSON.parse(saved) as Partial<Tokens>;
    return tokens.accessToken && tokens.refreshToken ? (tokens as Tokens) : null;
  } catch {
    return null;
  }
}

const storedToken: TokenStore = {
  get: readTokens,
  set: (tokens) =>
    tokens ? localStorage.setItem(STORAGE_KEY, JSON.stringify(tokens)) : localStorage.removeItem(STORAGE_KEY),
};

/** The API's error code of a 401, without consuming the body the caller will read. */
async function codeOf(answer: Response): Promise<string | undefined> {
  if (!answer.headers.get('Content-Type')?.startsWith('application/json')) return undefined;
  const body = (await answer.clone().json()) as { code?: string };
  return body.code;
}

async function signOutOn401(request: Request): Promise<Response> {
  const answer = await fetch(request);
  // `token_expired` is the client's to handle: it refreshes and retries the call.
  if (answer.status === 401 && storedToken.get() !== null && (await codeOf(answer)) !== 'token_expired') {
    storedToken.set(null);
    window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
  }
  return answer;
}

/** The API's origin: this page's own (Vite proxies `/api`), or VITE_API_BASE's, cross-origin. */
const apiBase: string = import.meta.env.VITE_API_BASE ?? location.origin;

const api = createTutoriumClient({
  baseUrl: apiBase,
  tokens: storedToken,
  fetch: signOutOn401,
});
const { client } = api;
const inSession = (id: string) => ({ params: { path: { session_id: id } } });

export const isSignedIn = (): boolean => storedToken.get() !== null;

export const signOut = (): void => api.logout();

export const signUp = (draft: Schemas['UserCreate']) =>
  ok(client.POST('/api/v1/auth/register', { body: draft }));

export const signIn = async (email: string, password: string): Promise<void> => {
  await api.login(email, password);
};

export const me = () => ok(client.GET('/api/v1/users/me'));

export const listSessions = (status: SessionStatus) =>
  ok(client.GET('/api/v1/sessions', { params: { query: { status, limit: 100 } } })).then((page) => page.items);

export const createSession = (draft: SessionDraft) => ok(client.POST('/api/v1/sessions', { body: draft }));

export const getSession = (id: string) => ok(client.GET('/api/v1/sessions/{session_id}', inSession(id)));

export const joinSession = (id: string) => ok(client.POST('/api/v1/sessions/{session_id}/join', inSession(id)));

export const joinByCode = (roomCode: string) =>
  ok(client.POST('/api/v1/sessions/join-by-code', { body: { room_code: roomCode } }));

export const endSession = (id: string) => ok(client.POST('/api/v1/sessions/{session_id}/end', inSession(id)));

export const removeParticipant = (id: string, userId: string) =>
  ok(
    client.POST('/api/v1/sessions/{session_id}/participants/{user_id}/remove', {
      params: { path: { session_id: id, user_id: userId } },
    }),
  );

export const attendance = (id: string) =>
  ok(client.GET('/api/v1/sessions/{session_id}/attendance', inSession(id))).then((report) => report.items);

/** The API's own CSV of the attendance (`GET …/attendance.csv`), as a file to save. */
export const attendanceCsv = (id: string) =>
  ok(client.GET('/api/v1/sessions/{session_id}/attendance.csv', { ...inSession(id), parseAs: 'blob' }));

/**
 * The session's live feed as an EventSource. Browsers cannot send a header with it and tokens
 * never go in a URL, so each connection takes a single-use ticket; a reconnect takes a new one.
 */
export async function openFeed(id: string): Promise<EventSource> {
  const { ticket } = await ok(client.POST('/api/v1/sessions/{session_id}/feed-ticket', inSession(id)));
  return new EventSource(`${apiBase}/api/v1/sessions/${id}/feed?ticket=${encodeURIComponent(ticket)}`);
}
