// A task's run history (newest first) and its last run. Read through the task
// the caller already holds: the root field that returned it made the checks.
import type { RunOutcome, Task, TaskRun } from '../../db/models.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { ValidationError } from '../errors.js';
import { checkLength, MAX_CURSOR_LENGTH } from '../input-limits.js';
import type { Session } from '../session.js';

export const DEFAULT_RUNS_PAGE = 20;
export const MAX_RUNS_PAGE = 100;

export interface RunFilter {
  outcome?: RunOutcome | null;
}

export interface RunPage {
  runs: TaskRun[];
  cursorOf(run: TaskRun): string;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

/** A page of the task's runs, newest scheduled time first, with keyset pagination. */
export async function runHistory(
  session: Session,
  task: Pick<Task, 'id' | 'accountId'>,
  args: { first?: number | null; after?: string | null; filter?: RunFilter | null },
): Promise<RunPage> {
  const first = args.first ?? DEFAULT_RUNS_PAGE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_RUNS_PAGE) {
    throw new ValidationError('first', `first must be between 0 and ${MAX_RUNS_PAGE}.`);
  }
  if (args.after) checkLength('after', args.after, MAX_CURSOR_LENGTH);
  const after = args.after ? decodeCursor(args.after, ' of runHistory') : null;
  const rows = await session.deps.db.read.taskRun.findMany({
    where: {
      taskId: task.id,
      accountId: task.accountId,
      ...(args.filter?.outcome ? { outcome: args.filter.outcome } : {}),
      ...(after
        ? {
            OR: [{ scheduledFor: { lt: after.at } }, { scheduledFor: after.at, id: { lt: after.id } }],
          }
        : {}),
    },
    orderBy: [{ scheduledFor: 'desc' }, { id: 'desc' }],
    take: first + 1,
  });
  return {
    runs: rows.slice(0, first),
    cursorOf: (run) => encodeCursor(run.scheduledFor, run.id),
    hasNextPage: rows.length > first,
    hasPreviousPage: after !== null,
  };
}

/** The run the task started most recently (null if none; retention never prunes it). Batched per request. */
export function lastRun(session: Session, task: Pick<Task, 'lastRunId'>): Promise<TaskRun | null> {
  return task.lastRunId ? session.runs().load(task.lastRunId) : Promise.resolve(null);
}
