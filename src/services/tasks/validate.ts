// Validation of task fields, shared by createTask and the admin import.
import { Cron } from 'croner';
import type { Frequency } from '../../db/models.js';
import { ValidationError } from '../errors.js';

export const MAX_NAME_LENGTH = 255;
export const MAX_QUERY_LENGTH = 8192;

/** The crontab a non-custom frequency runs on when none is given. */
export const DEFAULT_CRONTAB: Record<Exclude<Frequency, 'CUSTOM'>, string> = {
  EVERY_MINUTE: '* * * * *',
  EVERY_HOUR: '0 * * * *',
  EVERY_DAY: '0 0 * * *',
  EVERY_MONTH: '0 0 1 * *',
};

export function validateName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new ValidationError('name', 'name must not be empty.');
  if (trimmed.length > MAX_NAME_LENGTH) {
    throw new ValidationError('name', `name must be at most ${MAX_NAME_LENGTH} characters.`);
  }
  return trimmed;
}

/** The API querystring; an access key must never be stored in it. */
export function validateQuery(query: string): string {
  const q = query.trim().replace(/^\?/, '');
  if (q.length > MAX_QUERY_LENGTH) {
    throw new ValidationError('query', `query must be at most ${MAX_QUERY_LENGTH} characters.`);
  }
  for (const key of new URLSearchParams(q).keys()) {
    if (key.trim().toLowerCase() === 'access_key') {
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
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    throw new ValidationError(
      'timezone',
      `Unknown time zone ${JSON.stringify(timezone)}; use an IANA name such as Europe/Paris.`,
    );
  }
  // Offsets like +01:00 resolve too, but are not IANA zones.
  if (!zones.has(resolved) && resolved !== 'UTC') {
    throw new ValidationError(
      'timezone',
      `Unknown time zone ${JSON.stringify(timezone)}; use an IANA name such as Europe/Paris.`,
    );
  }
  return timezone.toLowerCase() === resolved.toLowerCase() ? resolved : timezone;
}

/** A five-field Unix crontab that fires at least once in the time zone. */
export function validateCrontab(crontab: string, timezone: string): string {
  const pattern = crontab.trim().replace(/\s+/g, ' ');
  if (pattern.split(' ').length !== 5) {
    throw new ValidationError('crontab', 'crontab must have five fields: minute hour day-of-month month day-of-week.');
  }
  let cron: Cron;
  try {
    cron = new Cron(pattern, { timezone, paused: true });
  } catch (e) {
    throw new ValidationError('crontab', `Invalid crontab ${JSON.stringify(crontab)}: ${(e as Error).message}`);
  }
  if (!cron.nextRun()) throw new ValidationError('crontab', `crontab ${JSON.stringify(crontab)} never fires.`);
  return pattern;
}

/** The crontab to store: the given one, or the frequency's default. */
export function resolveCrontab(frequency: Frequency, crontab: string | null | undefined, timezone: string): string {
  if (crontab == null || crontab.trim() === '') {
    if (frequency === 'CUSTOM') throw new ValidationError('crontab', 'crontab is required when frequency is CUSTOM.');
    return DEFAULT_CRONTAB[frequency];
  }
  return validateCrontab(crontab, timezone);
}

/** When the schedule fires next, or null if it is not running. */
export function nextRunAt(
  task: { crontab: string; timezone: string; enabled: boolean; status: string },
  now: Date,
): Date | null {
  if (!task.enabled || task.status !== 'ACTIVE') return null;
  try {
    return new Cron(task.crontab, { timezone: task.timezone, paused: true }).nextRun(now) ?? null;
  } catch {
    return null;
  }
}
