import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';

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
  // timeout: how long a writer waits for another process's lock (SQLITE_BUSY).
  return new SqliteAdapterFactory({ url: `file:${file}`, timeout: 5000 });
}
