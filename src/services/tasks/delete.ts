import { admit, WRITE } from '../access.js';
import { NotFoundError } from '../errors.js';
import { validateId } from '../input-limits.js';
import { consumeQuota } from '../quota.js';
import type { Session } from '../session.js';
import { taskInProgress } from './status.js';

/**
 * Deletes one task unless a run is executing. The delete is conditional
 * (`WHERE inProgress = false`) and its row count decides the answer, so of any
 * number of concurrent deletes exactly one succeeds and one unit is consumed.
 */
export async function deleteTask(session: Session, id: string): Promise<{ deletedId: string }> {
  const account = await admit(session, WRITE);
  validateId(id);
  const { db, clock } = session.deps;
  await db.write(async (w) => {
    await consumeQuota(w, account.id, 1, clock.now());
    if ((await w.deleteIdleTasks(account.id, [id])) === 1) return;
    // Nothing deleted: say why (throwing rolls the quota back).
    const [task] = await w.taskStates(account.id, [id]);
    throw task ? taskInProgress(id, task.status) : new NotFoundError(id);
  });
  session.tasks(account.id).clear(id);
  session.deps.events.publish([{ kind: 'TaskDeleted', accountId: account.id, taskId: id }]);
  return { deletedId: id };
}
