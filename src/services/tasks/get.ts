import type { Task } from '../../db/models.js';
import { admit, READ } from '../access.js';
import { NotFoundError } from '../errors.js';
import { validateId } from '../input-limits.js';
import type { Session } from '../session.js';

/** One of the caller's tasks. Another account's task is NotFound, never "forbidden". */
export async function getTask(session: Session, id: string): Promise<Task> {
  const account = await admit(session, READ);
  validateId(id);
  const task = await session.tasks(account.id).load(id);
  if (!task) throw new NotFoundError(id);
  return task;
}
