import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { pendingMigrationSql } from '../src/db/new-migration.js';
import { migrationsDir } from '../src/db/paths.js';
import { readMigrationList } from '../src/db/schema-engine.js';
import { createTestDatabase, TEST_PROVIDER } from './helpers/database.js';

describe(`migrations (${TEST_PROVIDER})`, () => {
  it("are applied by Prisma's schema engine and recorded in _prisma_migrations like `migrate deploy`", async () => {
    const target = await createTestDatabase({ migrated: false });
    try {
      const names = (await readMigrationList(migrationsDir(TEST_PROVIDER))).migrationDirectories.map((m) => m.path);
      expect(names.length).toBeGreaterThan(0);
      expect(await migrateDatabase(target.url)).toEqual(names);
      // A second run applies nothing.
      expect(await migrateDatabase(target.url)).toEqual([]);

      const db = await openDatabase(target.url);
      try {
        const rows = await db.read.$queryRawUnsafe<
          { migration_name: string; finished: boolean; rolled_back: boolean }[]
        >(
          'SELECT migration_name, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back FROM _prisma_migrations ORDER BY migration_name',
        );
        expect(rows.map((r) => r.migration_name)).toEqual(names);
        expect(rows.every((r) => Boolean(r.finished) && !r.rolled_back)).toBe(true);
        // The models' tables exist and work.
        expect(await db.read.task.count()).toBe(0);
        expect(await db.read.account.count()).toBe(0);
      } finally {
        await db.close();
      }
    } finally {
      await target.drop();
    }
  });

  it('match prisma/models.prisma (no model change without a migration)', async () => {
    expect(await pendingMigrationSql(TEST_PROVIDER)).toBe('');
  });
});
