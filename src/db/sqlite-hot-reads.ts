// Authentication and task lookups on SQLite through better-sqlite3 prepared
// statements on their own read-only connection. Every request makes them, and
// through Prisma each costs ~230 µs on this project's machines (the adapter
// re-prepares the statement on every call) against ~7 µs here — more than the
// whole GraphQL framework's per-request cost. Rows are mapped to Prisma's own
// model types, and a test checks the answers equal Prisma's for every field.
import Database from 'better-sqlite3';
import type { HotReads } from './client.js';
import type { Account, Task } from './models.js';

interface AccountRow extends Omit<Account, 'quotaResetAt' | 'createdAt'> {
  quotaResetAt: string | null;
  createdAt: string;
}

interface TaskRow extends Omit<Task, 'enabled' | 'inProgress' | 'createdAt' | 'lastRunAt'> {
  enabled: number;
  inProgress: number;
  createdAt: string;
  lastRunAt: string | null;
}

const date = (v: string) => new Date(v);
/** How @prisma/adapter-better-sqlite3 stores a DateTime (iso8601, "+00:00"). */
const storedTime = (d: Date) => d.toISOString().replace('Z', '+00:00');

const TASK_COLUMNS =
  'id, accountId, name, api, query, frequency, crontab, timezone, enabled, status, inProgress, createdAt, lastRunAt, runs';

function toAccount(r: AccountRow): Account {
  return {
    id: r.id,
    name: r.name,
    plan: r.plan,
    billing: r.billing,
    quotaLimit: r.quotaLimit,
    quotaUsed: r.quotaUsed,
    quotaResetAt: r.quotaResetAt === null ? null : date(r.quotaResetAt),
    createdAt: date(r.createdAt),
  };
}

function toTask(r: TaskRow): Task {
  return {
    id: r.id,
    accountId: r.accountId,
    name: r.name,
    api: r.api,
    query: r.query,
    frequency: r.frequency,
    crontab: r.crontab,
    timezone: r.timezone,
    enabled: r.enabled === 1,
    status: r.status,
    inProgress: r.inProgress === 1,
    createdAt: date(r.createdAt),
    lastRunAt: r.lastRunAt === null ? null : date(r.lastRunAt),
    runs: r.runs,
  };
}

export function sqliteHotReads(file: string, onQuery?: (sql: string) => void): HotReads & { close(): void } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const account = db.prepare<[string], AccountRow>(
    `SELECT a.id, a.name, a.plan, a.billing, a.quotaLimit, a.quotaUsed, a.quotaResetAt, a.createdAt
       FROM ApiKey k JOIN Account a ON a.id = k.accountId
      WHERE k.keyHash = ? AND k.revokedAt IS NULL`,
  );
  // CROSS JOIN fixes the order: look each id up by primary key. Left to
  // itself the planner scans the account's whole index instead.
  const tasks = db.prepare<[string, string], TaskRow>(
    `SELECT ${TASK_COLUMNS.replace(/(\w+)/g, 't.$1')}
       FROM json_each(?) j CROSS JOIN Task t ON t.id = j.value
      WHERE t.accountId = ?`,
  );
  // One statement for every filter combination: a NULL parameter switches its
  // condition off. Times compare as text in the ISO form the adapter stores.
  const page = db.prepare<Record<string, unknown>, TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM Task
      WHERE accountId = @accountId
        AND (@status IS NULL OR status = @status)
        AND (@api IS NULL OR api = @api)
        AND (@enabled IS NULL OR enabled = @enabled)
        AND (@afterAt IS NULL OR createdAt < @afterAt OR (createdAt = @afterAt AND id < @afterId))
      ORDER BY createdAt DESC, id DESC
      LIMIT @take`,
  );
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
