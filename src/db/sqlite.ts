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

/** A driver adapter for the SQLite file at `url`, creating its folder if needed. */
export function sqliteAdapter(url: string): PrismaBetterSqlite3 {
  const file = sqliteFilePath(url);
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  // timeout: how long a writer waits for another process's lock (SQLITE_BUSY).
  return new PrismaBetterSqlite3({ url: `file:${file}`, timeout: 5000 });
}
