// What a task's due time becomes when a dispatcher reaches it: usually that
// time runs; after downtime only the latest time within the catch-up window
// runs, and everything older leaves one MISSED record (no burst).
import type { Task } from '../../db/models.js';
import { type CompiledSchedule, compileSchedule } from '../schedule/planned-runs.js';

export interface DueTime {
  /** The planned time to run now (null: none within the catch-up window). */
  runAt: Date | null;
  /** Planned times from this one on (up to runAt, or to now) were missed: recorded once as SKIPPED (MISSED). */
  missedFrom: Date | null;
  /** The first planned time after now: the task's next nextRunAt. */
  next: Date | null;
}

const CHUNK = 16;
const MINUTE = 60_000;

/**
 * A running dispatcher reaches a time a little late (its last pass, busy
 * slots): that is lateness, not downtime, whatever RUN_CATCH_UP_SECONDS says.
 */
export const LATE_GRACE_MS = 5_000;

/**
 * `task.nextRunAt` (at or before `now`) is due. A time within `catchUpMs` of
 * now (at least LATE_GRACE_MS) still runs; of several, only the latest.
 */
export function dueTime(
  task: Pick<Task, 'crontab' | 'timezone' | 'nextRunAt'>,
  now: number,
  catchUpMs: number,
): DueTime {
  const first = task.nextRunAt as Date;
  const schedule = compileSchedule(task.crontab, task.timezone);
  if (!schedule) return { runAt: null, missedFrom: first, next: null };
  const windowStart = now - Math.max(catchUpMs, LATE_GRACE_MS);
  const inWindow = first.getTime() >= windowStart;
  const second = schedule.runsAfter(first.getTime(), 1)[0]?.at ?? null;
  if (!second || second.getTime() > now) {
    // The usual case: only `first` has come due.
    return inWindow
      ? { runAt: first, missedFrom: null, next: second }
      : { runAt: null, missedFrom: first, next: second };
  }
  // Several times have come due (the dispatcher was down): the latest in
  // [max(first, windowStart), now].
  const notBefore = Math.max(first.getTime(), windowStart);
  return {
    runAt: latestBetween(schedule, notBefore, now),
    missedFrom: first,
    next: schedule.runsAfter(now, 1)[0]?.at ?? null,
  };
}

/**
 * The latest planned time in [from, to], or null. Searches back from `to` in
 * spans that double (a minute, two, four…), so its cost follows the density
 * of the schedule near `to`, not the length of the window (a week of an
 * every-minute crontab would be 10,080 times walked forward).
 */
function latestBetween(schedule: CompiledSchedule, from: number, to: number): Date | null {
  let end = to;
  for (let span = MINUTE; end >= from; span *= 2) {
    const start = Math.max(from - 1, end - span); // exclusive
    let latest: Date | null = null;
    // Most spans are empty: one time tells.
    const first = schedule.runsAfter(start, 1)[0];
    if (first && first.at.getTime() <= end) latest = first.at;
    for (let after = latest?.getTime() ?? end; latest && after < end; ) {
      const times = schedule.runsAfter(after, CHUNK).filter((t) => t.at.getTime() <= end);
      if (times.length > 0) latest = times.at(-1)!.at;
      if (times.length < CHUNK) break;
      after = latest.getTime();
    }
    if (latest) return latest;
    end = start;
  }
  return null;
}
