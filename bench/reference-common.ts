// What both reference servers compute the same way, so they cannot drift apart.
import cronstrue from 'cronstrue';

/** The same write as the API's cancel: a cancelled task has no next run, and every change bumps the version. */
export const CANCEL_SQL =
  "UPDATE Task SET status = 'CANCELLED', nextRunAt = NULL, version = version + 1 WHERE id = ? AND status IN ('ACTIVE','PAUSED','CREATE_PENDING','ERROR') RETURNING status";

// Descriptions cached per crontab, as the API caches them (describeSchedule):
// cronstrue on every row would measure cronstrue, not the serving stack.
const descriptions = new Map<string, string>();

export function describe(crontab: string): string {
  let text = descriptions.get(crontab);
  if (text === undefined) {
    text = cronstrue.toString(crontab, { use24HourTimeFormat: true });
    descriptions.set(crontab, text);
  }
  return text;
}
