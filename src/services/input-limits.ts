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
/** A pagination cursor (ours are ~40 characters). */
export const MAX_CURSOR_LENGTH = 256;
export const MAX_API_KEY_LENGTH = 256;
/** Ids per deleteTasks call. */
export const MAX_BATCH = 1000;

/** Throws ValidationError when `value` is longer than `max` characters. */
export function checkLength(field: string, value: string, max: number, what = field): void {
  if (value.length > max) {
    throw new ValidationError(field, `${what} must be at most ${max} characters (got ${value.length}).`);
  }
}

/** A task id argument: at most MAX_ID_LENGTH characters (longer ids cannot exist). */
export function validateId(id: string, field = 'id'): string {
  checkLength(field, id, MAX_ID_LENGTH);
  return id;
}
