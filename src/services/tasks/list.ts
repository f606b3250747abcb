import { taskFilterWhere } from '../../db/client.js';
import type { ScheduleStatus, Task, TaskApi } from '../../db/models.js';
import { admit, READ } from '../access.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { ValidationError } from '../errors.js';
import { checkLength, MAX_CURSOR_LENGTH } from '../input-limits.js';
import type { Session } from '../session.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/**
 * The screenshot Task API's `GET /v1/tasks` answers "the list of your tasks"
 * with no pagination in its document: its clients get up to this many in one
 * answer (one query), and a Link to the rest.
 */
export const MAX_LIST_SIZE = 1000;

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
  /** The largest page: MAX_PAGE_SIZE, or MAX_LIST_SIZE for a door whose clients expect the whole list. */
  maxFirst = MAX_PAGE_SIZE,
): Promise<TaskPage> {
  const account = await admit(session, READ);
  const first = args.first ?? Math.min(DEFAULT_PAGE_SIZE, maxFirst);
  if (!Number.isInteger(first) || first < 0 || first > maxFirst) {
    throw new ValidationError('first', `first must be between 0 and ${maxFirst}.`);
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
