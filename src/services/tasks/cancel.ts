import type { ScheduleStatus, Task } from '../../db/models.js';
import { admit, WRITE } from '../access.js';
import { NotFoundError } from '../errors.js';
import { idProblem, validateId } from '../input-limits.js';
import { consumeQuota } from '../quota.js';
import type { Session } from '../session.js';
import { CANCELLABLE, notCancellable } from './status.js';

export interface CancelScheduleResult {
  scheduleId: string;
  oldStatus: ScheduleStatus;
  newStatus: ScheduleStatus;
  task: Task;
}

const MAX_ATTEMPTS = 3;

/**
 * Cancels a schedule: ACTIVE, PAUSED, CREATE_PENDING or ERROR → CANCELLED (and
 * disabled). The write is conditional on the status just read, so a concurrent
 * change can never be overwritten; of concurrent cancels exactly one succeeds.
 * Also limited per schedule id (RATE_LIMIT_SCHEDULE_MAX per window).
 */
export async function cancelSchedule(session: Session, id: string): Promise<CancelScheduleResult> {
  // An impossible id is refused after the account's checks, but never keys a
  // per-schedule limit (it would store the client's string).
  const account = await admit(session, { ...WRITE, scheduleId: idProblem(id) === null ? id : undefined });
  validateId(id);
  const { db, clock } = session.deps;
  const result = await db.write(async (w) => {
    await consumeQuota(w, account.id, 1, clock.now());
    for (let attempt = 1; ; attempt++) {
      const [current] = await w.taskStates(account.id, [id]);
      if (!current) throw new NotFoundError(id);
      if (!CANCELLABLE.includes(current.status)) throw notCancellable(id, current.status, current.inProgress);
      const task = await w.setTaskStatusIf(account.id, id, current.status, { status: 'CANCELLED', enabled: false });
      if (task) return { scheduleId: id, oldStatus: current.status, newStatus: task.status, task };
      // The status changed between the read and the write (another writer
      // outside this account's row lock): read again.
      if (attempt === MAX_ATTEMPTS) throw new Error(`cancelSchedule: status of ${id} kept changing`);
    }
  });
  session.tasks(account.id).clear(id).prime(id, result.task);
  return result;
}
