import type { Frequency, Task, TaskApi } from '../../db/models.js';
import { admit, WRITE } from '../access.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { validateId } from '../input-limits.js';
import { consumeQuota } from '../quota.js';
import type { Session } from '../session.js';
import { agrees, DEFAULT_CRONTAB } from './frequency.js';
import { nextRunAfter } from './next-run.js';
import { FINAL, finalStatus } from './status.js';
import { resolveCrontab, validateCrontab, validateName, validateQuery, validateTimezone } from './validate.js';

/** Each field optional: an omitted (or null) field keeps its value. */
export interface UpdateTaskInput {
  name?: string | null;
  api?: TaskApi | null;
  query?: string | null;
  frequency?: Frequency | null;
  crontab?: string | null;
  timezone?: string | null;
}

export interface UpdateTaskResult {
  task: Task;
  /** false when every given field already had its value: nothing was written or consumed. */
  changed: boolean;
}

const MAX_ATTEMPTS = 3;

/** Thrown inside the transaction when every given value is already the task's: nothing is written or consumed. */
class NoChange extends Error {
  constructor(readonly task: Task) {
    super('no change');
  }
}

/** The schedule after the update, validated as createTask validates a new one. */
function mergedSchedule(current: Task, input: UpdateTaskInput, timezone: string, now: number) {
  const frequency = input.frequency ?? current.frequency;
  let crontab: string;
  if (input.crontab != null) {
    crontab = resolveCrontab(frequency, input.crontab, timezone, now);
  } else if (input.frequency != null && !agrees(frequency, current.crontab)) {
    // A new preset whose shape the current crontab does not have: its default.
    crontab = DEFAULT_CRONTAB[frequency as Exclude<Frequency, 'CUSTOM'>];
  } else {
    crontab = current.crontab;
    // A new zone must still see the crontab fire.
    if (timezone !== current.timezone) validateCrontab(crontab, timezone, now);
  }
  return { frequency, crontab };
}

/**
 * Changes some of a task's fields. Checks in order: access, the id and the
 * given fields, quota, NotFound, Conflict (when `expectedVersion` is given
 * and is not the task's version), InvalidStatus (CANCELLED and NON_EXISTING
 * are final), then the merged schedule. Values equal to the current ones
 * change nothing and consume nothing (`changed: false`). The write is conditional on the
 * version read, so of concurrent updates from one version exactly one wins.
 * A changed schedule of an ACTIVE task plans its next run from now.
 */
export async function updateTask(
  session: Session,
  id: string,
  input: UpdateTaskInput,
  expectedVersion?: number | null,
): Promise<UpdateTaskResult> {
  const account = await admit(session, WRITE);
  validateId(id);
  const given = Object.entries(input).filter(([, v]) => v != null);
  if (given.length === 0) {
    throw new ValidationError(
      'input',
      'Nothing to update: give at least one of name, api, query, frequency, crontab, timezone.',
    );
  }
  if (expectedVersion != null && (!Number.isInteger(expectedVersion) || expectedVersion < 1)) {
    throw new ValidationError(
      'expectedVersion',
      'expectedVersion must be a positive integer (a version read from the task).',
    );
  }
  const name = input.name != null ? validateName(input.name) : undefined;
  const query = input.query != null ? validateQuery(input.query) : undefined;
  const zone = input.timezone != null ? validateTimezone(input.timezone) : undefined;
  const { db, clock } = session.deps;

  let result: UpdateTaskResult;
  try {
    result = await db.write(async (w) => {
      const now = clock.now();
      // Quota first, as every mutation consumes it (and so takes the account's
      // row lock): QuotaExceeded comes before the operation's own errors.
      await consumeQuota(w, account.id, 1, now);
      for (let attempt = 1; ; attempt++) {
        const current = await w.taskById(account.id, id);
        if (!current) throw new NotFoundError(id);
        if (expectedVersion != null && current.version !== expectedVersion) {
          throw new ConflictError(current, expectedVersion);
        }
        if (FINAL.includes(current.status)) throw finalStatus(id, current.status, current.inProgress);
        const timezone = zone ?? current.timezone;
        const { frequency, crontab } = mergedSchedule(current, input, timezone, now);
        const next = {
          name: name ?? current.name,
          api: input.api ?? current.api,
          query: query ?? current.query,
          frequency,
          crontab,
          timezone,
          status: current.status,
          // Kept as stored unless the schedule changes: a dispatcher may move
          // it on meanwhile (runs do not change the version).
          nextRunAt: undefined as Date | null | undefined,
        };
        const scheduleChanged = crontab !== current.crontab || timezone !== current.timezone;
        const changed =
          scheduleChanged ||
          next.name !== current.name ||
          next.api !== current.api ||
          next.query !== current.query ||
          frequency !== current.frequency;
        // Nothing to write: roll the unit back.
        if (!changed) throw new NoChange(current);
        // The same schedule keeps its planned run (due or not); a new one plans from now.
        if (scheduleChanged) next.nextRunAt = nextRunAfter(next, now);
        const task = await w.updateTaskIf(account.id, id, current.version, next);
        if (task) return { task, changed: true };
        // Changed between the read and the write by a writer outside the
        // account lock (a task turned ERROR by its runs): read again, and
        // with expectedVersion that is a Conflict on the next read.
        if (attempt === MAX_ATTEMPTS) throw new Error(`updateTask: task ${id} kept changing`);
      }
    });
  } catch (e) {
    if (!(e instanceof NoChange)) throw e;
    result = { task: e.task, changed: false };
  }
  session.tasks(account.id).clear(id).prime(id, result.task);
  if (result.changed) {
    session.deps.events.publish([{ kind: 'TaskChanged', accountId: account.id, change: 'UPDATED', task: result.task }]);
  }
  return result;
}
