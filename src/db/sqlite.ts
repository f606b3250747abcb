import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../generated/prisma/sqlite/client.js';
import { type Database, type DatabaseOptions, queryLog, TRANSACTION_LIMITS } from './client.js';
import { sameFileCheck } from './file-identity.js';
import { lockWait } from './sqlite-busy.js';
import { sqliteHotReads } from './sqlite-hot-reads.js';
import { sqliteWrites } from './sqlite-writes.js';
import { WriteGate } from './write-gate.js';

/** The file path behind a `file:` URL (query parameters are not supported). */
export function sqliteFilePath(url: string): string {
  const file = url.replace(/^file:/, '');
  if (file === '' || file.startsWith(':memory:') || file.includes('?')) {
    throw new Error(`DATABASE_URL must name a SQLite file (file:./data/app.db), got ${url}`);
  }
  return file;
}

/** SQLite's bind-parameter limit since 3.32 (better-sqlite3 bundles a newer one). */
const SQLITE_MAX_VARIABLE_NUMBER = 32766;

/**
 * The better-sqlite3 adapter, telling Prisma the real bind-parameter limit:
 * without it Prisma assumes SQLite's old 999 and splits an `IN` of 1,000 ids
 * into several statements.
 */
class SqliteAdapterFactory extends PrismaBetterSqlite3 {
  override async connect() {
    const adapter = await super.connect();
    return Object.assign(adapter, {
      getConnectionInfo: () => ({ maxBindValues: SQLITE_MAX_VARIABLE_NUMBER, supportsRelationJoins: false }),
    });
  }
}

/** A driver adapter for the SQLite file at `url`, creating its folder if needed. */
export function sqliteAdapter(url: string): PrismaBetterSqlite3 {
  const file = sqliteFilePath(url);
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  // timeout: how long a statement waits for another process's lock
  // (SQLITE_BUSY). Migrations and the start-up pragmas may wait; the server's
  // connections set it to 0 once open (see openSqlite).
  return new SqliteAdapterFactory({ url: `file:${file}`, timeout: 5000 });
}

function client(url: string, options: DatabaseOptions): PrismaClient {
  const prisma = new PrismaClient({ adapter: sqliteAdapter(url), log: queryLog(options) });
  const onQuery = options.onQuery;
  if (onQuery) (prisma as PrismaClient<'query'>).$on('query', (e) => onQuery(e.query));
  return prisma;
}

async function configure(prisma: PrismaClient): Promise<void> {
  // WAL: readers never block the writer nor see its uncommitted state.
  // synchronous=NORMAL is durable against process crashes in WAL mode.
  await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await prisma.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
  await prisma.$queryRawUnsafe('PRAGMA foreign_keys = ON');
}

/** From now on a statement meeting another process's lock fails at once, without blocking the event loop. */
async function neverWaitInside(prisma: PrismaClient): Promise<void> {
  await prisma.$queryRawUnsafe('PRAGMA busy_timeout = 0');
}

/**
 * better-sqlite3 is one connection per client, and the adapter only
 * serialises *transactions* on it: a plain query issued while another
 * request's transaction is open runs inside that transaction. So writes happen
 * only in `transaction` (serialised), and reads use their own connection,
 * which in WAL mode sees committed data only. The hot writes have a third
 * connection; one gate admits one writing transaction at a time across both.
 *
 * Once open, no connection waits inside the driver for another process's
 * lock: writes wait for it between timers (sqlite-busy.ts), and a Prisma
 * transaction that met it is rolled back and run again. Every write checks,
 * before COMMIT, that the file is still the one opened (file-identity.ts).
 */
export async function openSqlite(url: string, options: DatabaseOptions): Promise<Database> {
  const writer = client(url, options);
  const read = client(url, options);
  await configure(writer);
  await configure(read);
  const file = sqliteFilePath(url);
  const hot = sqliteHotReads(file, options.onQuery);
  const gate = new WriteGate();
  const waitForLock = lockWait(file, options.lockWaitMs);
  const sameFile = sameFileCheck(file);
  const writes = sqliteWrites(file, { gate, waitForLock, beforeCommit: sameFile, onQuery: options.onQuery });
  await neverWaitInside(writer);
  await neverWaitInside(read);
  return {
    provider: 'sqlite',
    read,
    hot,
    transaction: (fn) => {
      const since = performance.now();
      return gate.run(() =>
        waitForLock(
          () =>
            writer.$transaction(async (tx) => {
              const result = await fn(tx);
              sameFile();
              return result;
            }, TRANSACTION_LIMITS),
          since,
        ),
      );
    },
    write: writes.write,
    ping: async () => {
      sameFile();
      await read.$queryRawUnsafe('SELECT 1');
    },
    close: async () => {
      hot.close();
      writes.close();
      await Promise.all([writer.$disconnect(), read.$disconnect()]);
    },
  };
}
