import { describe, expect, it } from 'vitest';
import { migrationAdapterFor } from '../src/db/adapter.js';
import { openDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { pendingMigrationSql } from '../src/db/new-migration.js';
import { migrationsDir } from '../src/db/paths.js';
import { readMigrationList } from '../src/db/schema-engine.js';
import { planMissingRuns } from '../src/services/tasks/plan-missing.js';
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

  it('schedule_times keeps every task and makes the stored fields tell the truth', async () => {
    const target = await createTestDatabase({ migrated: false });
    try {
      const names = (await readMigrationList(migrationsDir(TEST_PROVIDER))).migrationDirectories.map((m) => m.path);
      const at = names.findIndex((n) => n.endsWith('_schedule_times'));
      await migrateDatabase(target.url, { upTo: names[at - 1] });
      // Rows as the previous schema held them, written with plain SQL.
      const legacy: [id: string, frequency: string, crontab: string, status: string, enabled: boolean][] = [
        ['disabled-active', 'EVERY_DAY', '0 0 * * *', 'ACTIVE', false],
        ['hour-every-5', 'EVERY_HOUR', '*/5 * * * *', 'ACTIVE', true],
        ['hour-ok', 'EVERY_HOUR', '15 * * * *', 'ACTIVE', true],
        ['day-ok', 'EVERY_DAY', '30 2 * * *', 'PAUSED', false],
        ['day-weekdays', 'EVERY_DAY', '0 9 * * 1-5', 'ACTIVE', true],
        ['month-ok', 'EVERY_MONTH', '0 0 1 * *', 'CANCELLED', false],
        ['month-twice', 'EVERY_MONTH', '0 0 1,15 * *', 'ACTIVE', true],
        ['minute-ok', 'EVERY_MINUTE', '* * * * *', 'ACTIVE', true],
        ['minute-hourly', 'EVERY_MINUTE', '0 * * * *', 'ACTIVE', true],
      ];
      const connection = await migrationAdapterFor(target.url).adapter.connect();
      const run = (sql: string) => connection.executeRaw({ sql, args: [], argTypes: [] });
      try {
        await run(`INSERT INTO "Account" ("id", "name", "plan", "quotaLimit") VALUES ('acct', 'legacy', 'SCALE', 10)`);
        for (const [id, frequency, crontab, status, enabled] of legacy) {
          await run(
            `INSERT INTO "Task" ("id", "accountId", "name", "api", "query", "frequency", "crontab", "timezone", "enabled", "status")
             VALUES ('${id}', 'acct', '${id}', 'PDF', 'url=x', '${frequency}', '${crontab}', 'Etc/UTC', ${enabled}, '${status}')`,
          );
        }
      } finally {
        await connection.dispose();
      }
      expect(await migrateDatabase(target.url)).toEqual(names.slice(at));
      const db = await openDatabase(target.url);
      try {
        const now = Date.UTC(2026, 5, 15, 12, 0, 0);
        expect(await planMissingRuns(db, now)).toBe(6);
        expect(await planMissingRuns(db, now)).toBe(0);
        const rows = await db.read.task.findMany({ orderBy: { id: 'asc' } });
        const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
        expect(rows).toHaveLength(legacy.length);
        expect(byId['disabled-active']).toMatchObject({ status: 'PAUSED', frequency: 'EVERY_DAY', nextRunAt: null });
        expect(byId['hour-every-5']).toMatchObject({
          status: 'ACTIVE',
          frequency: 'CUSTOM',
          nextRunAt: new Date('2026-06-15T12:05:00Z'),
        });
        expect(byId['hour-ok']).toMatchObject({ frequency: 'EVERY_HOUR', nextRunAt: new Date('2026-06-15T12:15:00Z') });
        expect(byId['day-ok']).toMatchObject({ status: 'PAUSED', frequency: 'EVERY_DAY', nextRunAt: null });
        expect(byId['day-weekdays']).toMatchObject({
          frequency: 'CUSTOM',
          nextRunAt: new Date('2026-06-16T09:00:00Z'),
        });
        expect(byId['month-ok']).toMatchObject({ frequency: 'EVERY_MONTH', status: 'CANCELLED', nextRunAt: null });
        expect(byId['month-twice']).toMatchObject({ frequency: 'CUSTOM' });
        expect(byId['minute-ok']).toMatchObject({ frequency: 'EVERY_MINUTE' });
        expect(byId['minute-hourly']).toMatchObject({ frequency: 'CUSTOM' });
        expect(byId['hour-ok']?.version).toBe(2);
        expect(byId['day-ok']?.version).toBe(1);
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
