import type { ScheduleStatus, Task } from '../../db/models.js';
import { admit, WRITE } from '../access.js';
import { NotFoundError } from '../errors.js';
import type { TaskChange } from '../events/task-events.js';
import { idProblem, validateId } from '../input-limits.js';
import { consumeQuota } from '../quota.js';
import type { Session } from '../session.js';
import { nextRunAfter } from './next-run.js';
import { notAllowed, type StatusChange, TRANSITIONS } from './status.js';

export interface StatusChanged {
  scheduleId: string;
  oldStatus: ScheduleStatus;
  newStatus: ScheduleStatus;
  /** The task as it is after the change. */
  task: Task;
}

const MAX_ATTEMPTS = 3;

const ANNOUNCED: Record<StatusChange, TaskChange> = { cancel: 'CANCELLED', pause: 'PAUSED', resume: 'RESUMED' };

/**
 * Moves a schedule along the lifecycle (see TRANSITIONS). Checks in order:
 * access (and the per-schedule limit), the id, quota, NotFound, InvalidStatus.
 * The write is conditional on the version just read, so a concurrent change is
 * never overwritten and of concurrent identical changes exactly one succeeds.
 * The next run is computed from now: resuming never runs a burst of missed times.
 */
export async function changeStatus(session: Session, change: StatusChange, id: string): Promise<StatusChanged> {
  // An impossible id is refused after the account's checks, but never keys a
  // per-schedule limit (it would store the client's string).
  const account = await admit(session, { ...WRITE, scheduleId: idProblem(id) === null ? id : undefined });
  validateId(id);
  const { from, to } = TRANSITIONS[change];
  const { db, clock } = session.deps;
  const result = await db.write(async (w) => {
    const now = clock.now();
    await consumeQuota(w, account.id, 1, now);
    for (let attempt = 1; ; attempt++) {
      const current = await w.taskById(account.id, id);
      if (!current) throw new NotFoundError(id);
      if (!from.includes(current.status)) throw notAllowed(change, id, current.status, current.inProgress);
      const next = { ...current, status: to };
      const task = await w.updateTaskIf(account.id, id, current.version, {
        ...next,
        nextRunAt: nextRunAfter(next, now),
      });
      if (task) return { scheduleId: id, oldStatus: current.status, newStatus: task.status, task };
      // Changed between the read and the write by a writer outside this
      // account's row lock (a task turned ERROR by its runs): read again.
      if (attempt === MAX_ATTEMPTS) throw new Error(`${change}: task ${id} kept changing`);
    }
  });
  session.tasks(account.id).clear(id).prime(id, result.task);
  session.deps.events.publish([
    { kind: 'TaskChanged', accountId: account.id, change: ANNOUNCED[change], task: result.task },
  ]);
  return result;
}
