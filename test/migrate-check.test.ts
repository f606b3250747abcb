// migrateDatabase on an up-to-date database is one plain read: Prisma's schema
// engine (which takes SQLite's file in EXCLUSIVE locking mode) starts only
// when there is something to apply or to report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { createTestDatabase, TEST_PROVIDER, type TestDatabase } from './helpers/database.js';

let database: TestDatabase;
let open: Database;

beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
  expect((await migrateDatabase(database.url)).length).toBeGreaterThan(0);
  // Open as a running server has it.
  open = await openDatabase(database.url);
  await open.ping();
});

afterAll(async () => {
  await open.close();
  await database.drop();
});

describe(`migrateDatabase on a database in use (${TEST_PROVIDER})`, () => {
  it('applies nothing, promptly, while another connection has the database open', async () => {
    const started = performance.now();
    expect(await migrateDatabase(database.url)).toEqual([]);
    // The old path waited out SQLite's 5 s lock timeout, then failed.
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('still lets the engine report a failed migration', async () => {
    await open.transaction((tx) =>
      tx.$executeRawUnsafe(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES ('failed-1', 'x', '20990101000000_broken', CURRENT_TIMESTAMP, 0)`,
      ),
    );
    await open.close();
    await expect(migrateDatabase(database.url)).rejects.toThrow(/20990101000000_broken/);
    open = await openDatabase(database.url);
  });
});
