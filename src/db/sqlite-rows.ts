// SQLite rows as @prisma/adapter-better-sqlite3 stores them, and their mapping
// to Prisma's own model types. Shared by the hot reads and the hot writes,
// which bypass Prisma; tests check both answer exactly what Prisma answers.
import type { Account, Task } from './models.js';

export interface AccountRow extends Omit<Account, 'quotaResetAt' | 'createdAt'> {
  quotaResetAt: string | null;
  createdAt: string;
}

export interface TaskRow extends Omit<Task, 'enabled' | 'inProgress' | 'createdAt' | 'lastRunAt'> {
  enabled: number;
  inProgress: number;
  createdAt: string;
  lastRunAt: string | null;
}

export const TASK_COLUMNS =
  'id, accountId, name, api, query, frequency, crontab, timezone, enabled, status, inProgress, createdAt, lastRunAt, runs';

/** A stored DateTime (or null) as a Date. */
export const storedDate = (v: string | null) => (v === null ? null : new Date(v));

/** How the adapter stores a DateTime: ISO 8601 with "+00:00". */
export const storedTime = (d: Date) => d.toISOString().replace('Z', '+00:00');

export function toAccount(r: AccountRow): Account {
  return {
    id: r.id,
    name: r.name,
    plan: r.plan,
    billing: r.billing,
    quotaLimit: r.quotaLimit,
    quotaUsed: r.quotaUsed,
    quotaResetAt: storedDate(r.quotaResetAt),
    createdAt: new Date(r.createdAt),
  };
}

export function toTask(r: TaskRow): Task {
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
    createdAt: new Date(r.createdAt),
    lastRunAt: storedDate(r.lastRunAt),
    runs: r.runs,
  };
}
