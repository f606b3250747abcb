// The run writes (run-writes.ts) as better-sqlite3 prepared statements on the
// hot writes' connection: a dispatcher claims and ends hundreds of runs a
// second, each a transaction of a few statements. SQLite has one writer, so
// nothing here needs row locks: the gate and BEGIN IMMEDIATE serialise them.
import type { Billing, Plan } from './models.js';
import type { RunWrites } from './run-writes.js';
import { RUN_COLUMNS, type RunRow, storedTime, TASK_COLUMNS, type TaskTuple, toRun, toTask } from './sqlite-rows.js';
import type { Statement } from './sqlite-writes.js';

const tColumns = TASK_COLUMNS.replace(/(\w+)/g, 't.$1');

export function sqliteRunWrites(statement: Statement): RunWrites {
  const due = statement<[string, number], [...TaskTuple, string, string]>(
    `SELECT ${tColumns}, a.plan, a.billing FROM Task t JOIN Account a ON a.id = t.accountId
      WHERE t.status = 'ACTIVE' AND t.nextRunAt <= ? ORDER BY t.nextRunAt, t.id LIMIT ?`,
  );
  due.raw(true);
  const advance = statement<Record<string, unknown>>(
    `UPDATE Task SET nextRunAt = @next
      WHERE id = @id AND status = 'ACTIVE' AND nextRunAt = @seen`,
  );
  const advanceAndStart = statement<Record<string, unknown>>(
    `UPDATE Task SET nextRunAt = @next, inProgress = 1, runs = runs + 1, lastRunAt = @at, lastRunId = @runId
      WHERE id = @id AND status = 'ACTIVE' AND nextRunAt = @seen AND inProgress = 0`,
  );
  const startManual = statement<Record<string, unknown>, TaskTuple>(
    `UPDATE Task SET inProgress = 1, runs = runs + 1, lastRunAt = @at, lastRunId = @runId
      WHERE id = @id AND accountId = @accountId AND inProgress = 0
        AND status IN (SELECT value FROM json_each(@from))
     RETURNING ${TASK_COLUMNS}`,
  );
  startManual.raw(true);
  const insert = statement<Record<string, unknown>>(
    `INSERT INTO TaskRun (${RUN_COLUMNS})
     VALUES (@id, @taskId, @accountId, @trigger, @api, @query, @scheduledFor, @startedAt, @finishedAt, @durationMs, @outcome,
             @skipReason, @attempts, @httpStatus, @error, @leaseUntil)`,
  );
  const expired = statement<[string, number], RunRow>(
    `SELECT ${RUN_COLUMNS} FROM TaskRun
      WHERE outcome = 'RUNNING' AND leaseUntil <= ? ORDER BY leaseUntil, id LIMIT ?`,
  );
  const lease = statement<[string, number, string, string]>(
    `UPDATE TaskRun SET leaseUntil = ?, attempts = ? WHERE id = ? AND outcome = 'RUNNING' AND leaseUntil = ?`,
  );
  const finish = statement<Record<string, unknown>>(
    `UPDATE TaskRun SET outcome = @outcome, finishedAt = @finishedAt, durationMs = @durationMs, attempts = @attempts,
            httpStatus = @httpStatus, error = @error, leaseUntil = NULL
      WHERE id = @id AND outcome = 'RUNNING' AND leaseUntil = @lease`,
  );
  const release = statement<Record<string, unknown>, TaskTuple>(
    `UPDATE Task SET inProgress = 0, failureStreak = CASE WHEN @failed THEN failureStreak + 1 ELSE 0 END
      WHERE id = @id
     RETURNING ${TASK_COLUMNS}`,
  );
  release.raw(true);
  const toError = statement<[string], TaskTuple>(
    `UPDATE Task SET status = 'ERROR', nextRunAt = NULL, version = version + 1
      WHERE id = ? AND status = 'ACTIVE'
     RETURNING ${TASK_COLUMNS}`,
  );
  toError.raw(true);
  const prune = statement<[string, number]>(
    `DELETE FROM TaskRun WHERE id IN (
       SELECT r.id FROM TaskRun r
        WHERE r.finishedAt < ? AND r.outcome <> 'RUNNING'
          AND NOT EXISTS (SELECT 1 FROM Task t WHERE t.lastRunId = r.id)
        LIMIT ?)`,
  );
  const time = (d: Date | null) => d && storedTime(d);

  return {
    dueTasks: async (now, limit) => {
      due.log();
      return due.all(storedTime(now), limit).map((row) => ({
        task: toTask(row.slice(0, -2) as unknown as TaskTuple),
        plan: row.at(-2) as Plan,
        billing: row.at(-1) as Billing,
      }));
    },
    advanceTask: async (id, seen, next, start) => {
      const s = start ? advanceAndStart : advance;
      s.log();
      return (
        s.run({
          id,
          seen: storedTime(seen),
          next: time(next),
          ...(start ? { at: storedTime(start.at), runId: start.runId } : {}),
        }).changes === 1
      );
    },
    startManualRun: async (accountId, id, from, start) => {
      startManual.log();
      const row = startManual.get({
        id,
        accountId,
        from: JSON.stringify(from),
        at: storedTime(start.at),
        runId: start.runId,
      });
      return row ? toTask(row) : null;
    },
    insertRun: async (run) => {
      insert.log();
      insert.run({
        ...run,
        scheduledFor: storedTime(run.scheduledFor),
        startedAt: time(run.startedAt),
        finishedAt: time(run.finishedAt),
        leaseUntil: time(run.leaseUntil),
      });
    },
    expiredRuns: async (now, limit) => {
      expired.log();
      return expired.all(storedTime(now), limit).map((row) => {
        const run = toRun(row);
        return { run, task: { api: run.api, query: run.query } };
      });
    },
    leaseRun: async (id, seenLease, until, attempts) => {
      lease.log();
      return lease.run(storedTime(until), attempts, id, storedTime(seenLease)).changes === 1;
    },
    finishRun: async (id, until, end) => {
      finish.log();
      return (
        finish.run({
          id,
          lease: storedTime(until),
          ...end,
          finishedAt: storedTime(end.finishedAt),
        }).changes === 1
      );
    },
    releaseTask: async (id, failed) => {
      release.log();
      const row = release.get({ id, failed: failed ? 1 : 0 });
      return row ? toTask(row) : null;
    },
    setTaskError: async (id) => {
      toError.log();
      const row = toError.get(id);
      return row ? toTask(row) : null;
    },
    pruneRuns: async (before, limit) => {
      prune.log();
      return prune.run(storedTime(before), limit).changes;
    },
  };
}
