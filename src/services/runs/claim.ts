// Claiming due times: the one place a scheduled time becomes a run or a
// SKIPPED record. Each time is claimed by a conditional write on its task row
// (still ACTIVE, nextRunAt still the time seen), in the same transaction that
// moves nextRunAt on, inserts the run and consumes its unit of quota: of any
// number of dispatchers, one claims it, once.
import type { SkipReason, Task, TaskRun } from '../../db/models.js';
import type { RunStart, RunToExecute } from '../../db/run-writes.js';
import { planRefusal } from '../access.js';
import type { PaymentRequiredReason } from '../errors.js';
import { runFinished, type TaskEvent } from '../events/task-events.js';
import { newId } from '../ids.js';
import { tryConsumeQuota } from '../quota.js';
import type { RunDeps } from './deps.js';
import { dueTime, LATE_GRACE_MS } from './due-time.js';
import { leaseMs } from './policy.js';
import { skippedRun, startedRun } from './records.js';

const SKIP_OF_REFUSAL: Record<PaymentRequiredReason, SkipReason> = {
  UNPAID_INVOICE: 'PAYMENT_REQUIRED',
  PLAN_UPGRADE_REQUIRED: 'PLAN_UPGRADE_REQUIRED',
};

export interface Claimed {
  /** Runs started, each held by this dispatcher for its first attempt. */
  started: RunToExecute[];
  /** Due tasks handled (started, skipped or missed). */
  handled: number;
  /** Due tasks read: `limit` means more may be due. */
  seen: number;
}

/**
 * Handles up to `limit` due tasks, earliest first. A due time runs unless the
 * previous run is still in progress (OVERLAP), the account may not run it
 * (PAYMENT_REQUIRED, PLAN_UPGRADE_REQUIRED: the API's own rule) or has no
 * quota left (QUOTA_EXCEEDED). After downtime see dueTime.
 */
export async function claimDueRuns({ db, clock, runs, events }: RunDeps, limit: number): Promise<Claimed> {
  const { claimed, announced } = await db.write(async (w) => {
    const nowMs = clock.now();
    const now = new Date(nowMs);
    const due = await w.dueTasks(now, limit);
    const claimed: Claimed = { started: [], handled: 0, seen: due.length };
    const announced: TaskEvent[] = [];
    if (due.length === 0) return { claimed, announced };
    for (const { task, plan, billing } of due) {
      const seen = task.nextRunAt as Date;
      const { runAt, missedFrom, next } = dueTime(task, nowMs, runs.catchUpMs);
      let skip: SkipReason | null = null;
      let start: RunStart | null = null;
      if (runAt) {
        const refused = planRefusal({ plan, billing });
        if (task.inProgress) skip = 'OVERLAP';
        else if (refused) skip = SKIP_OF_REFUSAL[refused];
        else if (!(await tryConsumeQuota(w, task.accountId, 1, nowMs))) skip = 'QUOTA_EXCEEDED';
        else start = { runId: newId(), at: now };
      }
      // The rows are this transaction's (locked on PostgreSQL, one writer on
      // SQLite): a failed conditional write means a bug, so undo the batch.
      if (!(await w.advanceTask(task.id, seen, next, start))) {
        throw new Error(`claim of task ${task.id} at ${seen.toISOString()} lost its row`);
      }
      // The row as advanceTask left it (this transaction holds it).
      const after: Task = start
        ? {
            ...task,
            nextRunAt: next,
            inProgress: true,
            runs: task.runs + 1,
            lastRunAt: start.at,
            lastRunId: start.runId,
          }
        : { ...task, nextRunAt: next };
      const skipped: TaskRun[] = [];
      if (missedFrom) {
        skipped.push(skippedRun(task, missedFrom, 'MISSED', now, missedMessage(missedFrom, runAt, runs.catchUpMs)));
      }
      if (runAt && skip) skipped.push(skippedRun(task, runAt, skip, now));
      for (const run of skipped) {
        await w.insertRun(run);
        announced.push(runFinished(run, after));
      }
      if (runAt && start) {
        const run = startedRun(task, 'SCHEDULE', runAt, now, new Date(nowMs + leaseMs(runs)), 1, start.runId);
        await w.insertRun(run);
        claimed.started.push({ run, task: { api: task.api, query: task.query } });
        announced.push({ kind: 'RunStarted', accountId: task.accountId, run, task: after });
      }
      claimed.handled++;
    }
    return { claimed, announced };
  });
  events.publish(announced);
  return claimed;
}

function missedMessage(from: Date, runAt: Date | null, catchUpMs: number): string {
  // At most 200 characters, like every run error.
  const span = `Planned times from ${from.toISOString()}`;
  return runAt
    ? `${span} to before ${runAt.toISOString()} were not reached in time (dispatchers down or busy); only the latest was considered.`
    : `${span} on were not reached in time (dispatchers down or busy) and are older than the ${Math.max(catchUpMs, LATE_GRACE_MS) / 1000}s catch-up window.`;
}
