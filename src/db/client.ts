// The database as the service layer sees it, on SQLite or PostgreSQL.
import type { Account, Prisma, PrismaClient, Task } from '../generated/prisma/sqlite/client.js';
import { type Provider, providerOf } from './paths.js';

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
  enabled?: boolean | null;
  /** Only tasks strictly after this position in the order. */
  after?: { createdAt: Date; id: string } | null;
  take: number;
}

/** The hot reads through Prisma's typed API (PostgreSQL, and the reference for SQLite's). */
export function prismaHotReads(db: Db): HotReads {
  return {
    accountByKeyHash: (keyHash) => db.account.findFirst({ where: { apiKeys: { some: { keyHash, revokedAt: null } } } }),
    tasksByIds: (accountId, ids) => db.task.findMany({ where: { accountId, id: { in: [...ids] } } }),
    taskPage: ({ accountId, status, api, enabled, after, take }) => {
      const where: Prisma.TaskWhereInput = { accountId };
      if (status) where.status = status;
      if (api) where.api = api;
      if (enabled != null) where.enabled = enabled;
      if (after)
        where.OR = [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }];
      return db.task.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take });
    },
  };
}

export interface Database {
  provider: Provider;
  /** Reads: never see another request's uncommitted writes. */
  read: Db;
  hot: HotReads;
  /** Every write runs in one of these. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
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
