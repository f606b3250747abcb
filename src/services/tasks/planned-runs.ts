import type { Task } from '../../db/models.js';
import { ValidationError } from '../errors.js';
import { MAX_PLANNED_AFTER_DAYS } from '../input-limits.js';
import { compileSchedule, type PlannedRun } from '../schedule/planned-runs.js';
import { validateRunCount } from '../schedule/preview.js';

const DAY = 86_400_000;

/**
 * A task's next `count` planned runs: from its stored nextRunAt (so the first
 * is nextRunAt), or strictly after `after`. None unless ACTIVE. `after` must
 * lie within MAX_PLANNED_AFTER_DAYS of now, so a request cannot make the
 * engine walk far-away years (each new zone-year costs a scan of its offsets).
 */
export function plannedRuns(task: Task, count: number, after: Date | null | undefined, now: number): PlannedRun[] {
  validateRunCount(count);
  if (after && Math.abs(after.getTime() - now) > MAX_PLANNED_AFTER_DAYS * DAY) {
    throw new ValidationError('after', `after must be within ${MAX_PLANNED_AFTER_DAYS} days of now.`);
  }
  if (task.status !== 'ACTIVE') return [];
  const schedule = compileSchedule(task.crontab, task.timezone);
  if (!schedule) return [];
  if (after) return schedule.runsAfter(after.getTime(), count);
  return task.nextRunAt ? schedule.runsAfter(task.nextRunAt.getTime() - 1, count) : [];
}
