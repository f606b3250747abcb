// The database as the service layer sees it, on SQLite or PostgreSQL.
import type { Account, Prisma, PrismaClient, Task } from '../generated/prisma/sqlite/client.js';
import { type Provider, providerOf } from './paths.js';
import { prismaRunWrites, type RunWrites } from './run-writes.js';

/**
 * The Prisma client type the services use. Both generated clients come from
 * the same models (see models.ts), so the PostgreSQL client has this shape too.
 */
export type Db = PrismaClient;
export type Tx = Prisma.TransactionClient;

export interface DatabaseOptions {
  /** Called with every SQL statement Prisma sends (tests count them). */
  onQuery?: (sql: string) => void;
  /** PostgreSQL connection pool size. */
  poolSize?: number;
  /**
   * SQLite: how long a write waits (without blocking the event loop) for
   * another process's lock on the file before failing; 5000 by default.
   */
  lockWaitMs?: number;
}

/**
 * The two reads on every request's path — authentication and task lookups —
 * as fast as each provider allows (see sqlite-hot-reads.ts for why SQLite
 * uses its own prepared statements). Same results as the Prisma queries.
 */
export interface HotReads {
  /** The account holding this unrevoked key. */
  accountByKeyHash(keyHash: string): Promise<Account | null>;
  /** The account's tasks among `ids` (any order; missing ids are absent). */
  tasksByIds(accountId: string, ids: readonly string[]): Promise<Task[]>;
  /** A page of the account's tasks, newest first (createdAt, then id, descending). */
  taskPage(page: TaskPageQuery): Promise<Task[]>;
}

export interface TaskPageQuery {
  accountId: string;
  status?: Task['status'] | null;
  api?: Task['api'] | null;
  /** true: only ACTIVE tasks; false: all others. */
  enabled?: boolean | null;
  /** Only tasks strictly after this position in the order. */
  after?: { createdAt: Date; id: string } | null;
  take: number;
}

/** The filter of a page of tasks as a Prisma condition (`enabled` is status = ACTIVE). */
export function taskFilterWhere({ accountId, status, api, enabled }: Omit<TaskPageQuery, 'after' | 'take'>) {
  const where: Prisma.TaskWhereInput = { accountId };
  if (api) where.api = api;
  if (status && enabled != null && (status === 'ACTIVE') !== enabled) where.id = { in: [] };
  else if (status) where.status = status;
  else if (enabled != null) where.status = enabled ? 'ACTIVE' : { not: 'ACTIVE' };
  return where;
}

/** The hot reads through Prisma's typed API (PostgreSQL, and the reference for SQLite's). */
export function prismaHotReads(db: Db): HotReads {
  return {
    accountByKeyHash: (keyHash) => db.account.findFirst({ where: { apiKeys: { some: { keyHash, revokedAt: null } } } }),
    tasksByIds: (accountId, ids) => db.task.findMany({ where: { accountId, id: { in: [...ids] } } }),
    taskPage: ({ after, take, ...filter }) => {
      const where = taskFilterWhere(filter);
      if (after)
        where.OR = [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }];
      return db.task.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take });
    },
  };
}

/** The account's quota counters after a change. */
export type QuotaRow = Pick<Account, 'quotaUsed' | 'quotaLimit' | 'quotaResetAt'>;

/** A task as created: not in progress, never run, version 1. */
export type NewTask = Omit<Task, 'inProgress' | 'lastRunAt' | 'runs' | 'version' | 'failureStreak' | 'lastRunId'>;

/**
 * What a change of a task may set (the rest is the runs' bookkeeping).
 * `nextRunAt` undefined keeps the stored one: a dispatcher may have moved it
 * on since the task was read (runs do not change the version).
 */
export type TaskChanges = Pick<Task, 'name' | 'api' | 'query' | 'frequency' | 'crontab' | 'timezone' | 'status'> & {
  nextRunAt: Date | null | undefined;
};

/**
 * The row changes of the task mutations (create, update, pause, resume,
 * cancel, delete, deleteTasks, runTask) and of the dispatcher's runs, and the
 * quota each consumes, inside one transaction. Plain data operations: the
 * decisions (what to charge, which status may change, which error to give)
 * stay in the services. On SQLite they bypass Prisma for the same reason the
 * hot reads do (see sqlite-writes.ts).
 */
export interface HotWrites extends RunWrites {
  /** Adds `units` (possibly 0, which only takes the row lock) to the account's used quota. */
  addQuotaUsed(accountId: string, units: number): Promise<QuotaRow>;
  /** Starts a new quota period: `used` units so far, ending at `resetAt`. */
  startQuotaPeriod(accountId: string, used: number, resetAt: Date): Promise<void>;
  insertTask(task: NewTask): Promise<Task>;
  /** Deletes those of the account's tasks among `ids` that are not in progress; how many. */
  deleteIdleTasks(accountId: string, ids: readonly string[]): Promise<number>;
  /** The account's tasks among `ids` (any order; missing ids are absent). */
  taskStates(accountId: string, ids: readonly string[]): Promise<Pick<Task, 'id' | 'status' | 'inProgress'>[]>;
  /** One of the account's tasks, in full; null when it has none with this id. */
  taskById(accountId: string, id: string): Promise<Task | null>;
  /**
   * Writes the task's changeable fields and bumps its version, only if its
   * version is still `version` (nothing changed since it was read); the
   * changed task, or null. A change of status restarts the failure streak.
   */
  updateTaskIf(accountId: string, id: string, version: number, next: TaskChanges): Promise<Task | null>;
}

/** The hot writes inside a Prisma transaction (PostgreSQL, and the reference for SQLite's). */
export function prismaHotWrites(tx: Tx, { postgres = false } = {}): HotWrites {
  const quotaColumns = { quotaUsed: true, quotaLimit: true, quotaResetAt: true } as const;
  return {
    ...prismaRunWrites(tx, { postgres }),
    addQuotaUsed: (accountId, units) =>
      tx.account.update({ where: { id: accountId }, data: { quotaUsed: { increment: units } }, select: quotaColumns }),
    startQuotaPeriod: async (accountId, used, resetAt) => {
      await tx.account.update({ where: { id: accountId }, data: { quotaUsed: used, quotaResetAt: resetAt } });
    },
    insertTask: (task) => tx.task.create({ data: task }),
    deleteIdleTasks: async (accountId, ids) =>
      (await tx.task.deleteMany({ where: { id: { in: [...ids] }, accountId, inProgress: false } })).count,
    taskStates: (accountId, ids) =>
      tx.task.findMany({
        where: { id: { in: [...ids] }, accountId },
        select: { id: true, status: true, inProgress: true },
      }),
    taskById: (accountId, id) => tx.task.findFirst({ where: { id, accountId } }),
    updateTaskIf: async (
      accountId,
      id,
      version,
      { name, api, query, frequency, crontab, timezone, status, nextRunAt },
    ) => {
      await tx.task.updateMany({
        where: { id, accountId, version, status: { not: status } },
        data: { failureStreak: 0 },
      });
      return (
        (
          await tx.task.updateManyAndReturn({
            where: { id, accountId, version },
            // nextRunAt undefined: Prisma leaves the column as it is.
            data: { name, api, query, frequency, crontab, timezone, status, nextRunAt, version: { increment: 1 } },
          })
        )[0] ?? null
      );
    },
  };
}

export interface Database {
  provider: Provider;
  /** Reads: never see another request's uncommitted writes. */
  read: Db;
  hot: HotReads;
  /**
   * Every write runs in one of these (or in `write`). On SQLite `fn` runs
   * again if it met another process's lock (its attempt was rolled back), so
   * it must do nothing but database work.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** A transaction of hot writes only; serialised with `transaction`. */
  write<T>(fn: (w: HotWrites) => Promise<T>): Promise<T>;
  /** Throws if the database cannot answer (readiness checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Waits for a free connection/lock and runs each transaction for at most this long. */
export const TRANSACTION_LIMITS = { maxWait: 10_000, timeout: 10_000 };

export function queryLog(options: DatabaseOptions) {
  return options.onQuery ? [{ emit: 'event' as const, level: 'query' as const }] : [];
}

/** Opens an already migrated database. */
export async function openDatabase(url: string, options: DatabaseOptions = {}): Promise<Database> {
  if (providerOf(url) === 'sqlite') {
    const { openSqlite } = await import('./sqlite.js');
    return openSqlite(url, options);
  }
  const { openPostgres } = await import('./postgres.js');
  return openPostgres(url, options);
}
