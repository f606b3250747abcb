// Validation of task fields, shared by createTask, updateTask, schedulePreview
// and the admin import. Every
// length is checked before any parsing, so no input costs more than its bound.
import { Cron } from 'croner';
import type { Frequency } from '../../db/models.js';
import { ValidationError } from '../errors.js';
import {
  checkLength,
  checkPrintable,
  MAX_CRONTAB_LENGTH,
  MAX_NAME_LENGTH,
  MAX_QUERY_LENGTH,
  MAX_TIMEZONE_LENGTH,
} from '../input-limits.js';
import { quote } from '../quote.js';
import { compileSchedule } from '../schedule/planned-runs.js';
import { checkAgreement, DEFAULT_CRONTAB } from './frequency.js';

export { DEFAULT_CRONTAB };

export function validateName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new ValidationError('name', 'name must not be empty.');
  checkLength('name', trimmed, MAX_NAME_LENGTH);
  checkPrintable('name', trimmed);
  return trimmed;
}

/** The API querystring; an access key must never be stored in it. */
export function validateQuery(query: string): string {
  const q = query.trim().replace(/^\?/, '');
  checkLength('query', q, MAX_QUERY_LENGTH);
  checkPrintable('query', q);
  // Some servers also split parameters on ';'.
  for (const key of new URLSearchParams(q.replaceAll(';', '&')).keys()) {
    if (key.replace(/[\p{Cc}\s]/gu, '').toLowerCase() === 'access_key') {
      throw new ValidationError('query', "query must not contain access_key: the task runs with the account's key.");
    }
  }
  return q;
}

const zones = new Set(Intl.supportedValuesOf('timeZone'));

/**
 * An IANA time zone known to this runtime. Aliases (Etc/UTC, US/Eastern) are
 * accepted as written; a wrong capitalisation is corrected.
 */
export function validateTimezone(timezone: string): string {
  checkLength('timezone', timezone, MAX_TIMEZONE_LENGTH);
  const unknown = () =>
    new ValidationError('timezone', `Unknown time zone ${quote(timezone)}; use an IANA name such as Europe/Paris.`);
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    throw unknown();
  }
  // Offsets like +01:00 resolve too, but are not IANA zones.
  if (!zones.has(resolved) && resolved !== 'UTC') throw unknown();
  return timezone.toLowerCase() === resolved.toLowerCase() ? resolved : timezone;
}

/** A five-field Unix crontab that fires again after `now` in the time zone; returned normalised. */
export function validateCrontab(crontab: string, timezone: string, now: number): string {
  checkLength('crontab', crontab, MAX_CRONTAB_LENGTH);
  const pattern = crontab.trim().replace(/\s+/g, ' ');
  if (pattern.split(' ').length !== 5) {
    throw new ValidationError('crontab', 'crontab must have five fields: minute hour day-of-month month day-of-week.');
  }
  try {
    new Cron(pattern, { timezone, paused: true });
  } catch (e) {
    // croner's reason names the field at fault; the pattern is quoted, bounded.
    const reason = String((e as Error).message).slice(0, 120);
    throw new ValidationError('crontab', `Invalid crontab ${quote(crontab)}: ${reason}`);
  }
  if (compileSchedule(pattern, timezone)?.runsAfter(now, 1).length !== 1) {
    throw new ValidationError('crontab', `crontab ${quote(crontab)} never fires.`);
  }
  return pattern;
}

/** The crontab to store: the given one (which must agree with the frequency), or the frequency's default. */
export function resolveCrontab(
  frequency: Frequency,
  crontab: string | null | undefined,
  timezone: string,
  now: number,
): string {
  if (crontab == null || crontab.trim() === '') {
    if (frequency === 'CUSTOM') throw new ValidationError('crontab', 'crontab is required when frequency is CUSTOM.');
    return DEFAULT_CRONTAB[frequency];
  }
  const pattern = validateCrontab(crontab, timezone, now);
  checkAgreement(frequency, pattern);
  return pattern;
}
