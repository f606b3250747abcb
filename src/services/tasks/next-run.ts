// The stored nextRunAt: computed when a task's schedule or status changes,
// never when it is read.
import type { ScheduleStatus } from '../../db/models.js';
import { compileSchedule } from '../schedule/planned-runs.js';

/** The first planned run strictly after `now`; null unless ACTIVE (or when the crontab never fires again). */
export function nextRunAfter(
  task: { crontab: string; timezone: string; status: ScheduleStatus },
  now: number,
): Date | null {
  if (task.status !== 'ACTIVE') return null;
  return compileSchedule(task.crontab, task.timezone)?.runsAfter(now, 1)[0]?.at ?? null;
}
