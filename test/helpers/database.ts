// The database a test runs on: SQLite by default, PostgreSQL when the suite
// runs with TEST_DATABASE=postgresql (the `postgresql` vitest project). Every
// call gives an isolated database: a SQLite file, or a PostgreSQL schema.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrateDatabase } from '../../src/db/migrate.js';
import type { Provider } from '../../src/db/paths.js';

export const TEST_PROVIDER: Provider = process.env.TEST_DATABASE === 'postgresql' ? 'postgresql' : 'sqlite';
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

// Migrating costs a schema-engine start; for SQLite do it once per worker and copy.
let sqliteTemplate: Promise<string> | undefined;
function migratedSqliteTemplate(): Promise<string> {
  sqliteTemplate ??= (async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tasks-template-'));
    const file = path.join(dir, 'template.db');
    await migrateDatabase(`file:${file}`);
    return file;
  })();
  return sqliteTemplate;
}

async function postgresAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh database for one test file; migrated unless `migrated: false`. */
export async function createTestDatabase({ migrated = true } = {}): Promise<TestDatabase> {
  if (TEST_PROVIDER === 'sqlite') {
    const dir = await mkdtemp(path.join(tmpdir(), 'tasks-test-'));
    const file = path.join(dir, 'test.db');
    if (migrated) await copyFile(await migratedSqliteTemplate(), file);
    return { url: `file:${file}`, drop: () => rm(dir, { recursive: true, force: true }) };
  }
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
  await postgresAdmin((c) => c.query(`CREATE SCHEMA "${schema}"`));
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', schema);
  if (migrated) await migrateDatabase(url.toString());
  return {
    url: url.toString(),
    drop: () => postgresAdmin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).then(() => undefined),
  };
}
