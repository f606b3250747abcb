import type { Frequency, Task, TaskApi } from '../../db/models.js';
import { admit, WRITE } from '../access.js';
import { newId } from '../ids.js';
import { consumeQuota } from '../quota.js';
import type { Session } from '../session.js';
import { nextRunAfter } from './next-run.js';
import { resolveCrontab, validateName, validateQuery, validateTimezone } from './validate.js';

export interface CreateTaskInput {
  name: string;
  api: TaskApi;
  query: string;
  frequency: Frequency;
  crontab?: string | null;
  timezone?: string | null;
  /** false: created PAUSED (resumeSchedule starts it). */
  enabled?: boolean | null;
}

/** Creates a scheduled task, ACTIVE (or PAUSED when not enabled); consumes one unit of quota. */
export async function createTask(session: Session, input: CreateTaskInput): Promise<Task> {
  const account = await admit(session, WRITE);
  const { db, clock } = session.deps;
  const name = validateName(input.name);
  const query = validateQuery(input.query);
  const timezone = validateTimezone(input.timezone ?? 'Etc/UTC');
  const schedule = {
    crontab: resolveCrontab(input.frequency, input.crontab, timezone, clock.now()),
    timezone,
    status: input.enabled === false ? ('PAUSED' as const) : ('ACTIVE' as const),
  };
  const data = {
    id: session.deps.newTaskId?.() ?? newId(),
    accountId: account.id,
    name,
    api: input.api,
    query,
    frequency: input.frequency,
    ...schedule,
  };
  const task = await db.write(async (w) => {
    const now = clock.now();
    await consumeQuota(w, account.id, 1, now);
    return w.insertTask({ ...data, createdAt: new Date(now), nextRunAt: nextRunAfter(schedule, now) });
  });
  session.tasks(account.id).prime(task.id, task);
  session.deps.events.publish([{ kind: 'TaskChanged', accountId: account.id, change: 'CREATED', task }]);
  return task;
}
