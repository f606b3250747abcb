// Prisma clients for the configured database.
import { type Prisma, PrismaClient } from '../generated/prisma/client.js';
import { sqliteAdapter } from './sqlite.js';

export type Tx = Prisma.TransactionClient;

export interface DatabaseOptions {
  /** Called with every SQL statement Prisma sends (tests count them). */
  onQuery?: (sql: string) => void;
}

/**
 * The service layer's view of the database.
 *
 * SQLite through better-sqlite3 is one connection per client, and the adapter
 * only serialises *transactions* on it: a plain query issued while another
 * request's transaction is open runs inside that transaction. So writes happen
 * only in `transaction` (serialised), and reads use their own connection, which
 * in WAL mode sees committed data only.
 */
export interface Database {
  read: PrismaClient;
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function client(url: string, options: DatabaseOptions): PrismaClient {
  const prisma = new PrismaClient({
    adapter: sqliteAdapter(url),
    log: options.onQuery ? [{ emit: 'event', level: 'query' }] : [],
  });
  if (options.onQuery) {
    const onQuery = options.onQuery;
    (prisma as PrismaClient<'query'>).$on('query', (e) => onQuery(e.query));
  }
  return prisma;
}

async function configure(prisma: PrismaClient): Promise<void> {
  // WAL: readers never block the writer nor see its uncommitted state.
  // synchronous=NORMAL is durable against process crashes in WAL mode.
  await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await prisma.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
  await prisma.$queryRawUnsafe('PRAGMA foreign_keys = ON');
}

/** Opens an already migrated database. */
export async function openDatabase(url: string, options: DatabaseOptions = {}): Promise<Database> {
  const writer = client(url, options);
  const read = client(url, options);
  await configure(writer);
  await configure(read);
  return {
    read,
    transaction: (fn) => writer.$transaction(fn, { maxWait: 10_000, timeout: 10_000 }),
    close: async () => {
      await Promise.all([writer.$disconnect(), read.$disconnect()]);
    },
  };
}
