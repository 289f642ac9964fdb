import { TutoriumError } from '@tutorium/client';

/** The API's own message for a refusal; a rate limit also says how long to wait. */
export function explain(error: unknown): string {
  if (error instanceof TutoriumError) {
    const wait = error.retryAfterSeconds ? ` Try again in ${error.retryAfterSeconds} s.` : '';
    return `${error.detail}${wait} (${error.code})`;
  }
  if (error instanceof TypeError) return 'The server cannot be reached. Check your connection.';
  return error instanceof Error ? error.message : String(error);
}
