// The rows of runs: claiming due times, leasing, ending and pruning runs.
// Plain data operations inside a hot-writes transaction; the decisions (what a
// due time becomes, when a task turns ERROR) are in services/runs/.
import type { Prisma } from '../generated/prisma/sqlite/client.js';
import type { Billing, Plan, RunOutcome, ScheduleStatus, Task, TaskRun } from './models.js';
import { storedTime } from './sqlite-rows.js';

type Tx = Prisma.TransactionClient;

/** A task with a due time, and what decides whether its account may run it. */
export interface DueTask {
  task: Task;
  plan: Plan;
  billing: Billing;
}

/** A RUNNING run and what calling the executor needs (the request as claimed, stored on the run). */
export interface RunToExecute {
  run: TaskRun;
  task: Pick<Task, 'api' | 'query'>;
}

/** How an executed run ended. */
export interface RunEnd {
  outcome: Extract<RunOutcome, 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT'>;
  finishedAt: Date;
  durationMs: number | null;
  attempts: number;
  httpStatus: number | null;
  error: string | null;
}

/** What starting a run writes on its task. */
export interface RunStart {
  runId: string;
  at: Date;
}

export interface RunWrites {
  /**
   * ACTIVE tasks whose nextRunAt is at or before `now`, earliest first, in
   * progress or not. On PostgreSQL their rows and their accounts' rows are
   * locked for this transaction, skipping tasks whose task or account row
   * another transaction holds: a dispatcher never waits (a mutation holds its
   * account and may wait for the task: a deadlock), and the batch holds only
   * tasks it can claim.
   */
  dueTasks(now: Date, limit: number): Promise<DueTask[]>;
  /**
   * Moves a due task's nextRunAt on from `seen`, only if it is still ACTIVE
   * with that nextRunAt (another dispatcher did not claim it). With `start`,
   * also only if no run holds it: marks it in progress, counts the run and
   * makes it the task's last run. Whether it was written.
   */
  advanceTask(id: string, seen: Date, next: Date | null, start: RunStart | null): Promise<boolean>;
  /** runTask: the same start for the account's task if its status is among `from` and no run holds it; the task, or null. */
  startManualRun(accountId: string, id: string, from: readonly ScheduleStatus[], start: RunStart): Promise<Task | null>;
  insertRun(run: TaskRun): Promise<void>;
  /**
   * RUNNING runs whose lease ended at or before `now` (their dispatcher died,
   * or runTask left them for any dispatcher), earliest first; locked on
   * PostgreSQL, skipping those another dispatcher holds.
   */
  expiredRuns(now: Date, limit: number): Promise<RunToExecute[]>;
  /** Sets a RUNNING run's lease and attempts, only if its lease is still `seenLease`. Whether it was written. */
  leaseRun(id: string, seenLease: Date, lease: Date, attempts: number): Promise<boolean>;
  /** Ends a RUNNING run held with `lease` (false: another dispatcher took it over). */
  finishRun(id: string, lease: Date, end: RunEnd): Promise<boolean>;
  /**
   * A run of the task ended: it is no longer in progress, and its failure
   * streak restarts (success) or grows. The task after it, or null if it is gone.
   */
  releaseTask(id: string, failed: boolean): Promise<Task | null>;
  /** Turns an ACTIVE task ERROR: no next run, a new version. The task after it, or null if it was not ACTIVE. */
  setTaskError(id: string): Promise<Task | null>;
  /** Deletes up to `limit` ended runs that finished before `before`, never a task's last run; how many. */
  pruneRuns(before: Date, limit: number): Promise<number>;
}

/** PostgreSQL's timestamp(3) columns hold UTC without a zone. */
const pgTime = (d: Date) => d.toISOString().replace('Z', '');

/**
 * The run writes through Prisma: PostgreSQL (with row locks that skip held
 * rows), and the reference
 * for SQLite's prepared statements (tests compare the two).
 */
export function prismaRunWrites(tx: Tx, { postgres }: { postgres: boolean }): RunWrites {
  return {
    dueTasks: async (now, limit) => {
      let where: Prisma.TaskWhereInput = { status: 'ACTIVE', nextRunAt: { lte: now } };
      if (postgres) {
        const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
          `SELECT t.id FROM "Task" t JOIN "Account" a ON a.id = t."accountId"
            WHERE t.status = 'ACTIVE' AND t."nextRunAt" <= $1::timestamp
            ORDER BY t."nextRunAt", t.id LIMIT $2 FOR UPDATE OF t, a SKIP LOCKED`,
          pgTime(now),
          limit,
        );
        where = { id: { in: rows.map((r) => r.id) } };
      }
      const tasks = await tx.task.findMany({
        where,
        include: { account: { select: { plan: true, billing: true } } },
        orderBy: [{ nextRunAt: 'asc' }, { id: 'asc' }],
        take: limit,
      });
      return tasks.map(({ account, ...task }) => ({ task, plan: account.plan, billing: account.billing }));
    },
    advanceTask: async (id, seen, next, start) =>
      (
        await tx.task.updateMany({
          where: { id, status: 'ACTIVE', nextRunAt: seen, ...(start ? { inProgress: false } : {}) },
          data: {
            nextRunAt: next,
            ...(start ? { inProgress: true, runs: { increment: 1 }, lastRunAt: start.at, lastRunId: start.runId } : {}),
          },
        })
      ).count === 1,
    startManualRun: async (accountId, id, from, start) =>
      (
        await tx.task.updateManyAndReturn({
          where: { id, accountId, status: { in: [...from] }, inProgress: false },
          data: { inProgress: true, runs: { increment: 1 }, lastRunAt: start.at, lastRunId: start.runId },
        })
      )[0] ?? null,
    insertRun: async (run) => {
      await tx.taskRun.create({ data: run });
    },
    expiredRuns: async (now, limit) => {
      let where: Prisma.TaskRunWhereInput = { outcome: 'RUNNING', leaseUntil: { lte: now } };
      if (postgres) {
        const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
          `SELECT id FROM "TaskRun" WHERE outcome = 'RUNNING' AND "leaseUntil" <= $1::timestamp
            ORDER BY "leaseUntil", id LIMIT $2 FOR UPDATE SKIP LOCKED`,
          pgTime(now),
          limit,
        );
        where = { id: { in: rows.map((r) => r.id) } };
      }
      const runs = await tx.taskRun.findMany({
        where,
        orderBy: [{ leaseUntil: 'asc' }, { id: 'asc' }],
        take: limit,
      });
      return runs.map((run) => ({ run, task: { api: run.api, query: run.query } }));
    },
    leaseRun: async (id, seenLease, lease, attempts) =>
      (
        await tx.taskRun.updateMany({
          where: { id, outcome: 'RUNNING', leaseUntil: seenLease },
          data: { leaseUntil: lease, attempts },
        })
      ).count === 1,
    finishRun: async (id, lease, end) =>
      (
        await tx.taskRun.updateMany({
          where: { id, outcome: 'RUNNING', leaseUntil: lease },
          data: { ...end, leaseUntil: null },
        })
      ).count === 1,
    releaseTask: async (id, failed) =>
      (
        await tx.task.updateManyAndReturn({
          where: { id },
          data: { inProgress: false, failureStreak: failed ? { increment: 1 } : 0 },
        })
      )[0] ?? null,
    setTaskError: async (id) =>
      (
        await tx.task.updateManyAndReturn({
          where: { id, status: 'ACTIVE' },
          data: { status: 'ERROR', nextRunAt: null, version: { increment: 1 } },
        })
      )[0] ?? null,
    pruneRuns: (before, limit) =>
      // Raw: "not a task's last run" is NOT EXISTS on Task.lastRunId, which
      // has no relation (a relation would make the run's insert order matter).
      // PostgreSQL: skip rows a task's delete holds rather than wait (their
      // lock orders differ: a deadlock).
      tx.$executeRawUnsafe(
        `DELETE FROM "TaskRun" WHERE id IN (
           SELECT r.id FROM "TaskRun" r
            WHERE r."finishedAt" < ${postgres ? '$1::timestamp' : '?'} AND r.outcome <> 'RUNNING'
              AND NOT EXISTS (SELECT 1 FROM "Task" t WHERE t."lastRunId" = r.id)
            LIMIT ${postgres ? '$2 FOR UPDATE OF r SKIP LOCKED' : '?'})`,
        postgres ? pgTime(before) : storedTime(before),
        limit,
      ),
  };
}
