// The task mutations' writes (and their quota) on SQLite through
// better-sqlite3 prepared statements on their own connection. Through Prisma
// a transaction of two statements costs ~1 ms on this project's machines
// (interactive-transaction bookkeeping plus per-call statement preparation)
// against ~30 µs here: it was most of a mutation's time.
//
// SQLite has one writer at a time. Prisma's writer connection and this one
// take turns through a WriteGate, so neither ever waits on the lock the other
// holds. Another process's lock is met at BEGIN IMMEDIATE and waited for
// without blocking the event loop (busy_timeout 0, see sqlite-busy.ts). A
// `write` callback must await only these operations: the gate is held until
// it returns.
import Database from 'better-sqlite3';
import type { HotWrites, NewTask, QuotaRow } from './client.js';
import type { Task } from './models.js';
import type { LockWait } from './sqlite-busy.js';
import { storedDate, storedTime, TASK_COLUMNS, TASKS_BY_ID_LIST, type TaskTuple, toTask } from './sqlite-rows.js';
import { sqliteRunWrites } from './sqlite-run-writes.js';
import type { WriteGate } from './write-gate.js';

interface QuotaRowStored extends Omit<QuotaRow, 'quotaResetAt'> {
  quotaResetAt: string | null;
}

/** A prepared statement that can log its SQL (the `onQuery` option). */
export type Statement = <P extends unknown[] | Record<string, unknown>, R = unknown>(
  sql: string,
) => Database.Statement<P, R> & { log: () => void };

export interface SqliteWrites {
  write<T>(fn: (w: HotWrites) => Promise<T>): Promise<T>;
  close(): void;
}

export interface SqliteWritesOptions {
  /** Takes turns with Prisma's writer connection. */
  gate: WriteGate;
  /** Retries BEGIN IMMEDIATE while another process holds the lock. */
  waitForLock: LockWait;
  /** Runs before each COMMIT; throwing rolls the transaction back. */
  beforeCommit: () => void;
  onQuery?: (sql: string) => void;
}

export function sqliteWrites(
  file: string,
  { gate, waitForLock, beforeCommit, onQuery }: SqliteWritesOptions,
): SqliteWrites {
  // Opening and preparing may wait for the lock (start-up); serving never does.
  const db = new Database(file, { fileMustExist: true, timeout: 5000 });
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  const statement = (<P extends unknown[] | Record<string, unknown>, R = unknown>(sql: string) => {
    return Object.assign(db.prepare<P, R>(sql), { log: () => onQuery?.(sql) });
  }) as Statement;
  const addQuota = statement<[number, string], QuotaRowStored>(
    'UPDATE Account SET quotaUsed = quotaUsed + ? WHERE id = ? RETURNING quotaUsed, quotaLimit, quotaResetAt',
  );
  const startPeriod = statement<[number, string, string]>(
    'UPDATE Account SET quotaUsed = ?, quotaResetAt = ? WHERE id = ?',
  );
  const insert = statement<Record<string, unknown>, TaskTuple>(
    `INSERT INTO Task (id, accountId, name, api, query, frequency, crontab, timezone, status, createdAt, nextRunAt)
     VALUES (@id, @accountId, @name, @api, @query, @frequency, @crontab, @timezone, @status, @createdAt, @nextRunAt)
     RETURNING ${TASK_COLUMNS}`,
  );
  insert.raw(true);
  // Ids travel as one JSON array, so one statement serves 1 or 1,000 ids.
  // Rows found by primary key, deleted by rowid: a plain
  // `id IN (json_each) AND accountId = ?` makes the planner walk the
  // account's whole index, which made deletes slower as the account grew.
  const deleteIdle = statement<[string, string]>(
    `DELETE FROM Task WHERE rowid IN (
       SELECT t.rowid FROM ${TASKS_BY_ID_LIST}
        WHERE t.accountId = ? AND t.inProgress = 0)`,
  );
  const states = statement<[string, string], { id: string; status: Task['status']; inProgress: number }>(
    `SELECT t.id, t.status, t.inProgress FROM ${TASKS_BY_ID_LIST}
      WHERE t.accountId = ?`,
  );
  const byId = statement<[string, string], TaskTuple>(
    `SELECT ${TASK_COLUMNS} FROM Task WHERE id = ? AND accountId = ?`,
  );
  byId.raw(true);
  const update = statement<Record<string, unknown>, TaskTuple>(
    `UPDATE Task SET name = @name, api = @api, query = @query, frequency = @frequency, crontab = @crontab,
            timezone = @timezone, status = @status,
            nextRunAt = CASE WHEN @keepNextRunAt THEN nextRunAt ELSE @nextRunAt END,
            failureStreak = CASE WHEN status = @status THEN failureStreak ELSE 0 END,
            version = version + 1
      WHERE id = @id AND accountId = @accountId AND version = @version
     RETURNING ${TASK_COLUMNS}`,
  );
  update.raw(true);
  // IMMEDIATE: take the write lock at BEGIN, so reads inside the transaction
  // see the state the writes will change.
  const begin = statement<[]>('BEGIN IMMEDIATE');
  const commit = statement<[]>('COMMIT');
  const rollback = statement<[]>('ROLLBACK');
  db.pragma('busy_timeout = 0');
  const beginNow = () => {
    begin.log();
    begin.run();
  };

  const writes: HotWrites = {
    ...sqliteRunWrites(statement),
    addQuotaUsed: async (accountId, units) => {
      addQuota.log();
      const row = addQuota.get(units, accountId);
      if (!row) throw new Error(`addQuotaUsed: no account ${accountId}`);
      return { ...row, quotaResetAt: storedDate(row.quotaResetAt) };
    },
    startQuotaPeriod: async (accountId, used, resetAt) => {
      startPeriod.log();
      startPeriod.run(used, storedTime(resetAt), accountId);
    },
    insertTask: async (task: NewTask) => {
      insert.log();
      const row = insert.get({
        ...task,
        createdAt: storedTime(task.createdAt),
        nextRunAt: task.nextRunAt && storedTime(task.nextRunAt),
      });
      if (!row) throw new Error(`insertTask: ${task.id} was not inserted`);
      return toTask(row);
    },
    deleteIdleTasks: async (accountId, ids) => {
      deleteIdle.log();
      return deleteIdle.run(JSON.stringify(ids), accountId).changes;
    },
    taskStates: async (accountId, ids) => {
      states.log();
      return states
        .all(JSON.stringify(ids), accountId)
        .map((r) => ({ id: r.id, status: r.status, inProgress: r.inProgress === 1 }));
    },
    taskById: async (accountId, id) => {
      byId.log();
      const row = byId.get(id, accountId);
      return row ? toTask(row) : null;
    },
    updateTaskIf: async (accountId, id, version, next) => {
      update.log();
      const row = update.get({
        id,
        accountId,
        version,
        name: next.name,
        api: next.api,
        query: next.query,
        frequency: next.frequency,
        crontab: next.crontab,
        timezone: next.timezone,
        status: next.status,
        nextRunAt: next.nextRunAt ? storedTime(next.nextRunAt) : null,
        keepNextRunAt: next.nextRunAt === undefined ? 1 : 0,
      });
      return row ? toTask(row) : null;
    },
  };

  return {
    write: (fn) => {
      const since = performance.now();
      return gate.run(async () => {
        await waitForLock(beginNow, since);
        try {
          const result = await fn(writes);
          beforeCommit();
          commit.log();
          commit.run();
          return result;
        } catch (error) {
          if (db.inTransaction) {
            rollback.log();
            rollback.run();
          }
          throw error;
        }
      });
    },
    close: () => db.close(),
  };
}
