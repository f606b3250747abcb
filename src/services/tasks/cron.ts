// Stored crontabs, parsed once: a Task's nextRunAt is read far more often than
// its schedule changes, and parsing per read let one long crontab hold the
// event loop for every alias of a request.
import { Cron } from 'croner';

const MAX_ENTRIES = 1000;

/** (time zone, crontab) → parsed schedule; null when it does not parse. */
const cache = new Map<string, Cron | null>();

/**
 * The parsed schedule of a stored crontab in its time zone (null if it does
 * not parse). Keyed on both inputs of the parse; the options are constant.
 * A bounded map, oldest entry evicted first.
 */
export function compiledCron(crontab: string, timezone: string): Cron | null {
  const key = `${timezone}\n${crontab}`;
  let cron = cache.get(key);
  if (cron === undefined) {
    try {
      cron = new Cron(crontab, { timezone, paused: true });
    } catch {
      cron = null;
    }
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, cron);
  }
  return cron;
}
