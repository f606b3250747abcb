import type { Frequency, Task, TaskApi } from '../../db/models.js';
import { admit, WRITE } from '../access.js';
import { newId } from '../ids.js';
import { consumeQuota } from '../quota.js';
import type { Session } from '../session.js';
import { resolveCrontab, validateName, validateQuery, validateTimezone } from './validate.js';

export interface CreateTaskInput {
  name: string;
  api: TaskApi;
  query: string;
  frequency: Frequency;
  crontab?: string | null;
  timezone?: string | null;
  enabled?: boolean | null;
}

/** Creates a scheduled task; consumes one unit of quota. */
export async function createTask(session: Session, input: CreateTaskInput): Promise<Task> {
  const account = await admit(session, WRITE);
  const name = validateName(input.name);
  const query = validateQuery(input.query);
  const timezone = validateTimezone(input.timezone ?? 'Etc/UTC');
  const data = {
    id: session.deps.newTaskId?.() ?? newId(),
    accountId: account.id,
    name,
    api: input.api,
    query,
    frequency: input.frequency,
    crontab: resolveCrontab(input.frequency, input.crontab, timezone),
    timezone,
    enabled: input.enabled ?? true,
    status: input.enabled === false ? ('PAUSED' as const) : ('ACTIVE' as const),
  };
  const { db, clock } = session.deps;
  const task = await db.write(async (w) => {
    const now = clock.now();
    await consumeQuota(w, account.id, 1, now);
    return w.insertTask({ ...data, createdAt: new Date(now) });
  });
  session.tasks(account.id).prime(task.id, task);
  return task;
}
