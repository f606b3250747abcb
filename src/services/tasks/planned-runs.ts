import type { Task } from '../../db/models.js';
import { ValidationError } from '../errors.js';
import { MAX_PLANNED_RUNS_PER_REQUEST } from '../input-limits.js';
import { compileSchedule, type PlannedRun } from '../schedule/planned-runs.js';
import { validateRunCount } from '../schedule/preview.js';
import type { Session } from '../session.js';

/**
 * A task's next `count` planned runs: from its stored nextRunAt (so the first
 * is nextRunAt), or strictly after `after`. None unless ACTIVE.
 */
export function plannedRuns(session: Session, task: Task, count: number, after?: Date | null): PlannedRun[] {
  validateRunCount(count);
  if (task.status !== 'ACTIVE') return [];
  if (!session.spendPlannedRuns(count)) {
    throw new ValidationError(
      'count',
      `At most ${MAX_PLANNED_RUNS_PER_REQUEST} planned runs per request, over all nextRuns fields; ask for fewer.`,
    );
  }
  const schedule = compileSchedule(task.crontab, task.timezone);
  if (!schedule) return [];
  if (after) return schedule.runsAfter(after.getTime(), count);
  return task.nextRunAt ? schedule.runsAfter(task.nextRunAt.getTime() - 1, count) : [];
}
