// The bound on everything a client sends, in one place: the schema's
// descriptions, validation, the import and the messages all read them here.
// An unbounded input once let 100 aliases of one 900 KB id answer 90 MB.
import { ValidationError } from './errors.js';

/** Task ids (the public APIs' are at most 32 characters). */
export const MAX_ID_LENGTH = 64;
export const MAX_NAME_LENGTH = 255;
/** A task's API querystring. */
export const MAX_QUERY_LENGTH = 8192;
/** A five-field crontab; long lists of values fit easily. */
export const MAX_CRONTAB_LENGTH = 128;
/** IANA zone names are at most ~32 characters. */
export const MAX_TIMEZONE_LENGTH = 64;
/** A pagination cursor: ours are base64 of [time, id], at most ~280 characters (64 three-byte characters). */
export const MAX_CURSOR_LENGTH = 320;
export const MAX_API_KEY_LENGTH = 256;
/** Ids per deleteTasks call. */
export const MAX_BATCH = 1000;
/** Planned runs asked for in one field (nextRuns, schedulePreview). */
export const MAX_PLANNED_RUNS = 100;
/** Planned runs one GraphQL request may compute, all fields, list items and aliases together. */
export const MAX_PLANNED_RUNS_PER_REQUEST = 5000;
/**
 * Run history rows one GraphQL request may read over all runHistory fields
 * (each one query): e.g. 20 tasks × 100 runs, or a page of 100 tasks × 20.
 */
export const MAX_RUN_HISTORY_PER_REQUEST = 2000;
/**
 * The same for a subscription's selection, which runs once per event per
 * subscriber, counting nothing against the rate limit: one nextRuns(count: 100)
 * or a runHistory(first: 50) per event, not fifty of them.
 */
export const MAX_PLANNED_RUNS_PER_EVENT = 100;
export const MAX_RUN_HISTORY_PER_EVENT = 50;
/** nextRuns(after): at most this far from now, either way. */
export const MAX_PLANNED_AFTER_DAYS = 3660;

/**
 * Control characters (NUL, newlines, C1) never belong in an id, a name or a
 * querystring; PostgreSQL cannot even store NUL in text (a 500 before this).
 */
const CONTROL = /\p{Cc}/u;

/** Throws ValidationError when `value` holds a control character. */
export function checkPrintable(field: string, value: string, what = field): void {
  if (CONTROL.test(value)) throw new ValidationError(field, `${what} must not contain control characters.`);
}

/** Why `id` cannot be a task id, or null when it can. */
export function idProblem(id: string): string | null {
  if (id.length > MAX_ID_LENGTH) return `has ${id.length} characters; ids have at most ${MAX_ID_LENGTH}`;
  if (CONTROL.test(id)) return 'contains a control character';
  return null;
}

/** Throws ValidationError when `value` is longer than `max` characters. */
export function checkLength(field: string, value: string, max: number, what = field): void {
  if (value.length > max) {
    throw new ValidationError(field, `${what} must be at most ${max} characters (got ${value.length}).`);
  }
}

/** A task id argument: at most MAX_ID_LENGTH characters, no control characters (no such id can exist). */
export function validateId(id: string, field = 'id'): string {
  checkLength(field, id, MAX_ID_LENGTH);
  checkPrintable(field, id);
  return id;
}
