// A preset frequency and its crontab must agree, so `frequency` never lies
// about how often a task runs (EVERY_HOUR with `*/5 * * * *` used to pass).
import type { Frequency } from '../../db/models.js';
import { ValidationError } from '../errors.js';
import { quote } from '../quote.js';

type Preset = Exclude<Frequency, 'CUSTOM'>;

/** The crontab a preset runs on when none is given. */
export const DEFAULT_CRONTAB: Record<Preset, string> = {
  EVERY_MINUTE: '* * * * *',
  EVERY_HOUR: '0 * * * *',
  EVERY_DAY: '0 0 * * *',
  EVERY_MONTH: '0 0 1 * *',
};

/**
 * Each preset's shape: how many leading fields are single values (minute,
 * hour, day of month); every other field is `*`. Ranges are checked by the
 * crontab's own validation.
 */
const SINGLE_FIELDS: Record<Preset, number> = { EVERY_MINUTE: 0, EVERY_HOUR: 1, EVERY_DAY: 2, EVERY_MONTH: 3 };

const SHAPE: Record<Preset, string> = {
  EVERY_MINUTE: '`* * * * *`',
  EVERY_HOUR: 'once an hour, `m * * * *`',
  EVERY_DAY: 'once a day, `m h * * *`',
  EVERY_MONTH: 'once a month, `m h d * *`',
};

/** Whether a (normalised, five-field) crontab has the frequency's shape; CUSTOM takes any. */
export function agrees(frequency: Frequency, crontab: string): boolean {
  if (frequency === 'CUSTOM') return true;
  const singles = SINGLE_FIELDS[frequency];
  return crontab.split(' ').every((field, i) => (i < singles ? /^\d+$/.test(field) : field === '*'));
}

/** Throws a ValidationError naming the expected shape when they disagree. */
export function checkAgreement(frequency: Frequency, crontab: string): void {
  if (agrees(frequency, crontab)) return;
  const preset = frequency as Preset;
  throw new ValidationError(
    'crontab',
    `crontab ${quote(crontab)} does not match frequency ${frequency}, which runs ${SHAPE[preset]} ` +
      `(e.g. \`${DEFAULT_CRONTAB[preset]}\`); use frequency CUSTOM for any other schedule.`,
  );
}
