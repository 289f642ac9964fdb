/**
 * The app's one door to Tutorium's API. Everything else imports from here, so swapping this
 * module for the generated `clients/typescript` client changes no view.
 *
 * Tokens live in localStorage so a reload keeps you signed in. A 401 triggers one refresh (when
 * the API gave a refresh token) and one retry; otherwise the session is over and the app asks
 * you to sign in again. Errors carry the API's own `code` and `detail` (and Retry-After).
 */

export type Role = 'teacher' | 'student';
export type SessionStatus = 'scheduled' | 'active' | 'ended';

export interface User {
  id: string;
  email: string;
  full_name: string;
  role: Role;
}

export interface Session {
  id: string;
  title: string;
  description: string | null;
  status: SessionStatus;
  max_participants: number;
  room_code: string;
  room_url: string;
  scheduled_start_at: string | null;
  duration_minutes: number;
  started_at: string | null;
  ended_at: string | null;
  participant_count: number;
  present_count: number;
}

export interface SessionDraft {
  title: string;
  description?: string;
  max_participants: number;
  scheduled_start_at?: string;
  duration_minutes: number;
}

export interface JoinInfo {
  session_id: string;
  role: Role;
  room_url: string;
  token: string;
  expires_at: string;
}

export type RosterStatus = 'seated' | 'in_call' | 'left' | 'removed';

/** One person in the live feed's roster (the teacher's view). */
export interface RosterEntry {
  user_id: string;
  name: string;
  role: Role;
  status: RosterStatus;
}

export interface AttendanceRow {
  user_id: string;
  full_name: string;
  role: Role;
  first_joined_at: string | null;
  last_left_at: string | null;
  total_seconds: number;
  join_count: number;
  present_now: boolean;
}

interface Tokens {
  access_token: string;
  refresh_token?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly retryAfterSeconds: number | null,
  ) {
    super(detail);
  }
}

const BASE = `${import.meta.env.VITE_API_BASE ?? ''}/api/v1`;
const STORAGE_KEY = 'tutorium.tokens';

/** Fired on `window` when the API no longer accepts our tokens, so the app asks to sign in. */
export const SIGNED_OUT_EVENT = 'tutorium:signed-out';

function storedTokens(): Tokens | null {
  const raw = localStorage.getItem(STORAGE_KEY);
  return raw ? (JSON.parse(raw) as Tokens) : null;
}

function storeTokens(tokens: Tokens | null): void {
  if (tokens) localStorage.setItem(STORAGE_KEY, JSON.stringify(tokens));
  else localStorage.removeItem(STORAGE_KEY);
}

export function isSignedIn(): boolean {
  return storedTokens() !== null;
}

export function signOut(): void {
  storeTokens(null);
}

async function toError(answer: Response): Promise<ApiError> {
  const body = (await answer.json().catch(() => ({}))) as { detail?: unknown; code?: unknown };
  const detail = typeof body.detail === 'string' ? body.detail : `HTTP ${answer.status}`;
  const code = typeof body.code === 'string' ? body.code : 'http_error';
  const retry = Number(answer.headers.get('Retry-After'));
  return new ApiError(answer.status, code, detail, Number.isFinite(retry) && retry > 0 ? retry : null);
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  const tokens = storedTokens();
  if (tokens) headers.Authorization = `Bearer ${tokens.access_token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(`${BASE}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Trade the refresh token for new tokens; false when there is none or it was refused. */
async function refresh(): Promise<boolean> {
  const refreshToken = storedTokens()?.refresh_token;
  if (!refreshToken) return false;
  const answer = await fetch(`${BASE}/auth/refresh`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
  if (!answer.ok) return false;
  storeTokens((await answer.json()) as Tokens);
  return true;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let answer = await send(method, path, body);
  if (answer.status === 401 && storedTokens()) {
    if (await refresh()) answer = await send(method, path, body);
    if (answer.status === 401) {
      storeTokens(null);
      window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
    }
  }
  if (!answer.ok) throw await toError(answer);
  if (answer.status === 204) return undefined as T;
  return (await answer.json()) as T;
}

export async function signUp(draft: {
  email: string;
  password: string;
  full_name: string;
  role: Role;
}): Promise<User> {
  return request<User>('POST', '/auth/register', draft);
}

/** The API's login is the OAuth2 password flow: a form, not JSON. */
export async function signIn(email: string, password: string): Promise<void> {
  const answer = await fetch(`${BASE}/auth/login`, {
    method: 'POST',
    body: new URLSearchParams({ username: email, password }),
  });
  if (!answer.ok) throw await toError(answer);
  storeTokens((await answer.json()) as Tokens);
}

export const me = () => request<User>('GET', '/users/me');

export const listSessions = (status: SessionStatus) =>
  request<{ items: Session[] }>('GET', `/sessions?status=${status}&limit=100`).then((p) => p.items);

export const createSession = (draft: SessionDraft) => request<Session>('POST', '/sessions', draft);

export const getSession = (id: string) => request<Session>('GET', `/sessions/${id}`);

export const joinSession = (id: string) => request<JoinInfo>('POST', `/sessions/${id}/join`);

export const joinByCode = (roomCode: string) =>
  request<JoinInfo>('POST', '/sessions/join-by-code', { room_code: roomCode });

export const endSession = (id: string) => request<unknown>('POST', `/sessions/${id}/end`);

export const removeParticipant = (id: string, userId: string) =>
  request<void>('POST', `/sessions/${id}/participants/${userId}/remove`);

export const attendance = (id: string) =>
  request<{ items: AttendanceRow[] }>('GET', `/sessions/${id}/attendance`).then((p) => p.items);

/**
 * The session's live feed as an EventSource. Browsers cannot send a header with it and tokens
 * never go in a URL, so each connection takes a single-use ticket; a reconnect takes a new one.
 */
export async function openFeed(id: string): Promise<EventSource> {
  const { ticket } = await request<{ ticket: string }>('POST', `/sessions/${id}/feed-ticket`);
  return new EventSource(`${BASE}/sessions/${id}/feed?ticket=${encodeURIComponent(ticket)}`);
}
