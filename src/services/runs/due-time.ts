// What a task's due time becomes when a dispatcher reaches it: usually that
// time runs; after downtime only the latest time within the catch-up window
// runs, and everything older leaves one MISSED record (no burst).
import type { Task } from '../../db/models.js';
import { compileSchedule } from '../schedule/planned-runs.js';

export interface DueTime {
  /** The planned time to run now (null: none within the catch-up window). */
  runAt: Date | null;
  /** Planned times from this one on (up to runAt, or to now) were missed: recorded once as SKIPPED (MISSED). */
  missedFrom: Date | null;
  /** The first planned time after now: the task's next nextRunAt. */
  next: Date | null;
}

const CHUNK = 16;

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
  // Several times have come due (the dispatcher was down). The latest in
  // [max(first, windowStart), now], walking from the later of the two so a
  // long downtime costs at most the window's times.
  let runAt: Date | null = null;
  let after = inWindow ? first.getTime() : windowStart - 1;
  for (;;) {
    const times = schedule.runsAfter(after, CHUNK).filter((t) => t.at.getTime() <= now);
    if (times.length === 0) break;
    runAt = times.at(-1)!.at;
    if (times.length < CHUNK) break;
    after = runAt.getTime();
  }
  return { runAt, missedFrom: first, next: schedule.runsAfter(now, 1)[0]?.at ?? null };
}
