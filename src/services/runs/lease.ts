// A run held by a dispatcher: taking over runs whose holder went away,
// renewing the hold between attempts, and ending the run. Every write is
// conditional on the lease the writer holds, so a dispatcher that was presumed
// dead and comes back can never record over the one that took its run over.

import type { HotWrites } from '../../db/client.js';
import type { Task, TaskRun } from '../../db/models.js';
import type { RunEnd, RunToExecute } from '../../db/run-writes.js';
import { runFinished, type TaskEvent } from '../events/task-events.js';
import type { RunDeps } from './deps.js';
import { leaseMs } from './policy.js';

/** Expired runs a takeover looks at beyond its free slots (see takeOverRuns). */
const ENDS_WITHOUT_SLOT = 16;

/** durationMs is a 32-bit integer column: ~24.8 days at most. */
const MAX_DURATION_MS = 2 ** 31 - 1;

export interface TakenOver {
  /** Runs this dispatcher now holds for their next attempt. */
  resumed: RunToExecute[];
  /** Runs whose attempts were used up: ended TIMED_OUT. */
  timedOut: number;
}

/**
 * Takes up to `limit` RUNNING runs whose lease has ended: runs queued by
 * runTask on an instance that does not execute, and runs whose dispatcher
 * died (kill -9, a lost machine). A run with attempts left gets its next
 * attempt (same run id); one whose last attempt never reported ends TIMED_OUT.
 */
export async function takeOverRuns({ db, clock, runs, events }: RunDeps, limit: number): Promise<TakenOver> {
  const { result, announced } = await db.write(async (w) => {
    const nowMs = clock.now();
    const now = new Date(nowMs);
    const result: TakenOver = { resumed: [], timedOut: 0 };
    const announced: TaskEvent[] = [];
    // A few more than there is room for: ending a run whose attempts are used
    // up takes no slot, so a full dispatcher still releases their tasks.
    for (const { run, task } of await w.expiredRuns(now, limit + ENDS_WITHOUT_SLOT)) {
      const held = run.leaseUntil as Date;
      if (run.attempts >= runs.maxAttempts) {
        const end: RunEnd = {
          outcome: 'TIMED_OUT',
          finishedAt: now,
          // Unknown: the attempts' times died with their dispatcher. From start to now bounds it.
          durationMs: run.startedAt ? Math.min(MAX_DURATION_MS, Math.max(0, nowMs - run.startedAt.getTime())) : null,
          attempts: run.attempts,
          httpStatus: null,
          error: 'The dispatcher making the last attempt stopped before it reported a result.',
        };
        if (await w.finishRun(run.id, held, end)) {
          announced.push(...(await releaseAfterRun(w, run, end, runs)).events);
          result.timedOut++;
        }
        continue;
      }
      if (result.resumed.length >= limit) continue; // no room: left for a later pass
      const lease = new Date(nowMs + leaseMs(runs));
      if (await w.leaseRun(run.id, held, lease, run.attempts + 1)) {
        result.resumed.push({ run: { ...run, leaseUntil: lease, attempts: run.attempts + 1 }, task });
      }
    }
    return { result, announced };
  });
  events.publish(announced);
  return result;
}

/**
 * After a run ended (`finishRun` succeeded): the task is released, and an
 * ACTIVE task whose runs failed RUN_FAILURES_TO_ERROR times in a row turns
 * ERROR (it stops running until resumeSchedule). The task after it, and the
 * events that announce it once committed.
 */
async function releaseAfterRun(
  w: HotWrites,
  run: TaskRun,
  end: RunEnd,
  runs: RunDeps['runs'],
): Promise<{ task: Task | null; events: TaskEvent[] }> {
  const failed = end.outcome !== 'SUCCEEDED';
  const released = await w.releaseTask(run.taskId, failed);
  // The task was deleted meanwhile: nobody is told of a run of a task they saw deleted.
  if (!released) return { task: null, events: [] };
  const ended = runFinished({ ...run, ...end, leaseUntil: null }, released);
  if (!failed || released.status !== 'ACTIVE' || released.failureStreak < runs.failuresToError) {
    return { task: released, events: [ended] };
  }
  const errored = await w.setTaskError(run.taskId);
  if (!errored) return { task: released, events: [ended] };
  return {
    task: errored,
    events: [
      { ...ended, task: errored },
      { kind: 'TaskChanged', accountId: errored.accountId, change: 'ERRORED', task: errored },
    ],
  };
}

/**
 * Moves the hold of a run this dispatcher holds to `untilMs`, with `attempts`
 * made or starting; the run as held now, or null when another dispatcher took it over.
 */
export async function renewLease(
  { db }: Pick<RunDeps, 'db'>,
  run: TaskRun,
  untilMs: number,
  attempts: number,
): Promise<TaskRun | null> {
  const lease = new Date(untilMs);
  const held = await db.write((w) => w.leaseRun(run.id, run.leaseUntil as Date, lease, attempts));
  return held ? { ...run, leaseUntil: lease, attempts } : null;
}

/**
 * Records how a run this dispatcher holds ended, and releases its task (which
 * turns ERROR after RUN_FAILURES_TO_ERROR consecutive failures). The task
 * after it, or null when another dispatcher had taken the run over (nothing is written).
 */
export async function endRun(deps: RunDeps, run: TaskRun, end: RunEnd): Promise<Task | null> {
  return (await endRuns(deps, [{ run, end }]))[0] ?? null;
}

/**
 * endRun for several runs in one transaction (a dispatcher groups the runs
 * that ended together: one commit instead of one each). Task rows are
 * written in id order, so two dispatchers' groups never deadlock on PostgreSQL.
 */
export async function endRuns(
  { db, runs, events }: RunDeps,
  ended: readonly { run: TaskRun; end: RunEnd }[],
): Promise<(Task | null)[]> {
  const order = ended.map((_, i) => i).sort((a, b) => (ended[a]!.run.taskId < ended[b]!.run.taskId ? -1 : 1));
  const { tasks, announced } = await db.write(async (w) => {
    const tasks: (Task | null)[] = new Array(ended.length).fill(null);
    const announced: TaskEvent[][] = new Array(ended.length).fill([]);
    for (const i of order) {
      const { run, end } = ended[i]!;
      if (!(await w.finishRun(run.id, run.leaseUntil as Date, end))) continue;
      const released = await releaseAfterRun(w, run, end, runs);
      tasks[i] = released.task;
      announced[i] = released.events;
    }
    return { tasks, announced };
  });
  // In the order the runs ended, not the order their rows were written.
  events.publish(announced.flat());
  return tasks;
}

/**
 * A deployment without an executor can never run what is RUNNING and no
 * longer held (queued by runTask, or left by a dispatcher that died before
 * EXECUTOR_URL was removed): ends those runs FAILED so no task stays
 * inProgress for good. Runs still held (a live dispatcher elsewhere) are
 * left alone. How many were ended.
 */
export async function abandonOrphanedRuns({ db, clock, runs, events }: RunDeps): Promise<number> {
  let total = 0;
  for (;;) {
    const { ended, announced } = await db.write(async (w) => {
      const now = new Date(clock.now());
      let ended = 0;
      const announced: TaskEvent[] = [];
      for (const { run } of await w.expiredRuns(now, 100)) {
        const end: RunEnd = {
          outcome: 'FAILED',
          finishedAt: now,
          durationMs: run.durationMs,
          attempts: run.attempts,
          httpStatus: null,
          error: 'Not run: this deployment has no executor (EXECUTOR_URL is not set).',
        };
        if (await w.finishRun(run.id, run.leaseUntil as Date, end)) {
          announced.push(...(await releaseAfterRun(w, run, end, runs)).events);
          ended++;
        }
      }
      return { ended, announced };
    });
    events.publish(announced);
    total += ended;
    if (ended < 100) return total;
  }
}
