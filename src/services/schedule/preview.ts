import type { Frequency } from '../../db/models.js';
import { admit, COMPUTE } from '../access.js';
import { ValidationError } from '../errors.js';
import { MAX_PLANNED_RUNS } from '../input-limits.js';
import type { Session } from '../session.js';
import { checkAgreement } from '../tasks/frequency.js';
import { validateCrontab, validateTimezone } from '../tasks/validate.js';
import { describeSchedule } from './describe.js';
import { compileSchedule, type PlannedRun } from './planned-runs.js';

export interface SchedulePreview {
  crontab: string;
  timezone: string;
  description: string;
  nextRuns: PlannedRun[];
}

/** Checks a count of planned runs asked for (1 to MAX_PLANNED_RUNS). */
export function validateRunCount(count: number): number {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PLANNED_RUNS) {
    throw new ValidationError('count', `count must be between 1 and ${MAX_PLANNED_RUNS}.`);
  }
  return count;
}

/**
 * What a schedule form shows while someone types: the crontab in words and
 * its next runs from now, validated as createTask validates the crontab and
 * time zone (and, given a frequency, their agreement). Any plan; counted
 * against the rate limit; changes nothing.
 */
export async function schedulePreview(
  session: Session,
  args: { crontab: string; timezone: string; count?: number | null; frequency?: Frequency | null },
): Promise<SchedulePreview> {
  await admit(session, COMPUTE);
  const count = validateRunCount(args.count ?? 5);
  const timezone = validateTimezone(args.timezone);
  const now = session.deps.clock.now();
  const crontab = validateCrontab(args.crontab, timezone, now);
  if (args.frequency) checkAgreement(args.frequency, crontab);
  return {
    crontab,
    timezone,
    description: describeSchedule(crontab),
    nextRuns: compileSchedule(crontab, timezone)?.runsAfter(now, count) ?? [],
  };
}
