import { admit, WRITE } from '../access.js';
import {
  BatchAbortedError,
  DeleteTasksAbortedError,
  type InvalidStatusError,
  NotFoundError,
  ValidationError,
} from '../errors.js';
import { idProblem, MAX_BATCH } from '../input-limits.js';
import { consumeQuota, lockAccount } from '../quota.js';
import type { Session } from '../session.js';
import { taskInProgress } from './status.js';

export { MAX_BATCH };

export interface TaskDeleted {
  taskId: string;
}

export type DeleteOutcome = TaskDeleted | NotFoundError | InvalidStatusError | BatchAbortedError;

/** The deletions happened (some items may have failed when not atomic). */
export interface DeleteTasksResult {
  deletedIds: string[];
  /** One per distinct id, in the order the ids were first given. */
  results: { id: string; outcome: DeleteOutcome }[];
}

/** Thrown inside the transaction to retry it when rows changed under it. */
class RowsChanged extends Error {}

const MAX_ATTEMPTS = 3;

/**
 * Deletes many tasks in one transaction with a constant number of statements
 * (lock the account, read, consume quota, delete), however many ids. Consumes one unit per task
 * actually deleted. With `atomic`, any failed item means nothing is deleted and
 * the answer is DeleteTasksAbortedError, carrying every item's outcome.
 */
export async function deleteTasks(
  session: Session,
  ids: readonly string[],
  atomic: boolean,
): Promise<DeleteTasksResult> {
  const account = await admit(session, WRITE);
  if (ids.length === 0) throw new ValidationError('ids', 'ids must not be empty.');
  if (ids.length > MAX_BATCH) throw new ValidationError('ids', `At most ${MAX_BATCH} ids per call; got ${ids.length}.`);
  for (const [i, id] of ids.entries()) {
    const problem = idProblem(id);
    if (problem) throw new ValidationError('ids', `ids[${i}] ${problem}.`);
  }
  const unique = [...new Set(ids)];
  const { db, clock } = session.deps;

  for (let attempt = 1; ; attempt++) {
    try {
      const result = await db.write(async (w) => {
        await lockAccount(w, account.id);
        const found = await w.taskStates(account.id, unique);
        const byId = new Map(found.map((t) => [t.id, t]));
        const failures = new Map<string, NotFoundError | InvalidStatusError>();
        const deletable: string[] = [];
        for (const id of unique) {
          const task = byId.get(id);
          if (!task) failures.set(id, new NotFoundError(id));
          else if (task.inProgress) failures.set(id, taskInProgress(id, task.status));
          else deletable.push(id);
        }
        if (atomic && failures.size > 0) {
          // Nothing was written but the account lock: throwing rolls it back.
          throw new DeleteTasksAbortedError(
            unique.map((id) => ({ id, outcome: failures.get(id) ?? new BatchAbortedError(id) })),
          );
        }
        if (deletable.length > 0) {
          await consumeQuota(w, account.id, deletable.length, clock.now());
          const count = await w.deleteIdleTasks(account.id, deletable);
          // A row changed between the read and the delete, by a writer that
          // does not take the account lock (a runner starting a task): roll
          // back and read again.
          if (count !== deletable.length) throw new RowsChanged();
        }
        return {
          deletedIds: deletable,
          results: unique.map((id) => ({ id, outcome: failures.get(id) ?? { taskId: id } })),
        };
      });
      const loader = session.tasks(account.id);
      for (const id of result.deletedIds) loader.clear(id);
      session.deps.events.publish(
        result.deletedIds.map((taskId) => ({ kind: 'TaskDeleted', accountId: account.id, taskId })),
      );
      return result;
    } catch (e) {
      if (!(e instanceof RowsChanged) || attempt === MAX_ATTEMPTS) throw e;
    }
  }
}
