// A schedule in words, for people reading a task list: cronstrue, 24-hour times.
import cronstrue from 'cronstrue';

const MAX_ENTRIES = 1000;
const cache = new Map<string, string>();

/** "34 9 28 * *" → "At 09:34, on day 28 of the month". Never throws: the crontab itself if cronstrue cannot read it. */
export function describeSchedule(crontab: string): string {
  let text = cache.get(crontab);
  if (text === undefined) {
    try {
      text = cronstrue.toString(crontab, { use24HourTimeFormat: true });
    } catch {
      text = crontab;
    }
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(crontab, text);
  }
  return text;
}
