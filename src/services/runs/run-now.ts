import type { Task, TaskRun } from '../../db/models.js';
import { admit, WRITE } from '../access.js';
import { NotFoundError, SchedulerDisabledError } from '../errors.js';
import { newId } from '../ids.js';
import { validateId } from '../input-limits.js';
import { consumeQuota } from '../quota.js';
import type { Session } from '../session.js';
import { notRunnable, RUNNABLE } from '../tasks/status.js';
import { leaseMs } from './policy.js';
import { startedRun } from './records.js';

export interface RunStarted {
  run: TaskRun;
  /** The task as it is now (in progress). */
  task: Task;
}

/**
 * runTask: a MANUAL run now, by the same path as a scheduled one. Checks in
 * order: access, the id, SchedulerDisabled, quota, NotFound, InvalidStatus (a
 * run in progress, or a status outside RUNNABLE). The start is a conditional
 * write (not in progress), so of concurrent runTask calls of a task one starts.
 * This instance executes it when it has a free slot; otherwise it is queued
 * (its lease already over) and the next pass of any dispatcher takes it.
 */
export async function runTask(session: Session, id: string): Promise<RunStarted> {
  const account = await admit(session, WRITE);
  validateId(id);
  const { db, clock, runs, runner } = session.deps;
  if (!runs.executorUrl) throw new SchedulerDisabledError();
  const local = runner?.reserve() ?? false;
  let started: RunStarted;
  try {
    started = await db.write(async (w) => {
      const nowMs = clock.now();
      const now = new Date(nowMs);
      await consumeQuota(w, account.id, 1, nowMs);
      const runId = newId();
      const task = await w.startManualRun(account.id, id, RUNNABLE, { runId, at: now });
      if (!task) {
        const [state] = await w.taskStates(account.id, [id]);
        throw state ? notRunnable(id, state.status, state.inProgress) : new NotFoundError(id);
      }
      const lease = local ? new Date(nowMs + leaseMs(runs)) : now;
      const run = startedRun(task, 'MANUAL', now, now, lease, local ? 1 : 0, runId);
      await w.insertRun(run);
      return { run, task };
    });
  } catch (e) {
    if (local) runner?.release();
    throw e;
  }
  if (local) runner?.execute({ run: started.run, task: { api: started.task.api, query: started.task.query } });
  session.tasks(account.id).clear(id).prime(id, started.task);
  session.deps.events.publish([{ kind: 'RunStarted', accountId: account.id, ...started }]);
  return started;
}
