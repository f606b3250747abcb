import { taskFilterWhere } from '../../db/client.js';
import type { ScheduleStatus, Task, TaskApi } from '../../db/models.js';
import { admit, READ } from '../access.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { ValidationError } from '../errors.js';
import { checkLength, MAX_CURSOR_LENGTH } from '../input-limits.js';
import type { Session } from '../session.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface TaskFilter {
  status?: ScheduleStatus | null;
  api?: TaskApi | null;
  /** true: only ACTIVE tasks (the ones that run); false: all others. */
  enabled?: boolean | null;
}

export interface TaskPage {
  tasks: Task[];
  cursorOf(task: Task): string;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  /** Counted only when asked for: it is a second query. */
  totalCount(): Promise<number>;
}

/** A page of the caller's tasks, newest first, with keyset pagination. */
export async function listTasks(
  session: Session,
  args: { first?: number | null; after?: string | null; filter?: TaskFilter | null },
): Promise<TaskPage> {
  const account = await admit(session, READ);
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw new ValidationError('first', `first must be between 0 and ${MAX_PAGE_SIZE}.`);
  }
  if (args.after) checkLength('after', args.after, MAX_CURSOR_LENGTH);
  const position = args.after ? decodeCursor(args.after, '') : null;
  const after = position && { createdAt: position.at, id: position.id };
  const filter = {
    accountId: account.id,
    status: args.filter?.status,
    api: args.filter?.api,
    enabled: args.filter?.enabled,
  };
  const { db } = session.deps;
  const rows = await db.hot.taskPage({ ...filter, after, take: first + 1 });
  const tasks = rows.slice(0, first);
  const loader = session.tasks(account.id);
  for (const t of tasks) loader.prime(t.id, t);
  return {
    tasks,
    cursorOf: (task) => encodeCursor(task.createdAt, task.id),
    hasNextPage: rows.length > first,
    hasPreviousPage: after !== null,
    totalCount: () => db.read.task.count({ where: taskFilterWhere(filter) }),
  };
}
