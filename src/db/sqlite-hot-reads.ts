// Authentication and task lookups on SQLite through better-sqlite3 prepared
// statements on their own read-only connection. Every request makes them, and
// through Prisma each costs ~230 µs on this project's machines (the adapter
// re-prepares the statement on every call) against ~7 µs here — more than the
// whole GraphQL framework's per-request cost. Rows are mapped to Prisma's own
// model types, and a test checks the answers equal Prisma's for every field.
//
// In WAL mode a reader does not wait for writers; SQLite calls a reader's
// busy handler only in rare cases (another connection recovering the WAL
// after a crash). Once serving, this connection has busy_timeout 0, so such
// a read fails at once (masked) instead of freezing the event loop.
import Database from 'better-sqlite3';
import type { HotReads } from './client.js';
import {
  type AccountRow,
  storedTime,
  TASK_COLUMNS,
  TASKS_BY_ID_LIST,
  type TaskTuple,
  toAccount,
  toTask,
} from './sqlite-rows.js';

export function sqliteHotReads(file: string, onQuery?: (sql: string) => void): HotReads & { close(): void } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const account = db.prepare<[string], AccountRow>(
    `SELECT a.id, a.name, a.plan, a.billing, a.quotaLimit, a.quotaUsed, a.quotaResetAt, a.createdAt
       FROM ApiKey k JOIN Account a ON a.id = k.accountId
      WHERE k.keyHash = ? AND k.revokedAt IS NULL`,
  );
  const tasks = db
    .prepare<[string, string], TaskTuple>(
      `SELECT ${TASK_COLUMNS.replace(/(\w+)/g, 't.$1')}
       FROM ${TASKS_BY_ID_LIST}
      WHERE t.accountId = ?`,
    )
    .raw(true);
  // One statement for every filter combination: a NULL parameter switches its
  // condition off. Times compare as text in the ISO form the adapter stores.
  const page = db
    .prepare<Record<string, unknown>, TaskTuple>(
      `SELECT ${TASK_COLUMNS} FROM Task
      WHERE accountId = @accountId
        AND (@status IS NULL OR status = @status)
        AND (@api IS NULL OR api = @api)
        AND (@enabled IS NULL OR (status = 'ACTIVE') = @enabled)
        AND (@afterAt IS NULL OR createdAt < @afterAt OR (createdAt = @afterAt AND id < @afterId))
      ORDER BY createdAt DESC, id DESC
      LIMIT @take`,
    )
    .raw(true);
  db.pragma('busy_timeout = 0');
  return {
    accountByKeyHash: async (keyHash) => {
      onQuery?.(account.source);
      const row = account.get(keyHash);
      return row ? toAccount(row) : null;
    },
    tasksByIds: async (accountId, ids) => {
      onQuery?.(tasks.source);
      return tasks.all(JSON.stringify(ids), accountId).map(toTask);
    },
    taskPage: async (q) => {
      onQuery?.(page.source);
      return page
        .all({
          accountId: q.accountId,
          status: q.status ?? null,
          api: q.api ?? null,
          enabled: q.enabled == null ? null : q.enabled ? 1 : 0,
          afterAt: q.after ? storedTime(q.after.createdAt) : null,
          afterId: q.after?.id ?? null,
          take: q.take,
        })
        .map(toTask);
    },
    close: () => db.close(),
  };
}
