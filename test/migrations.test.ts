import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../src/db/migrate.js';
import { pendingMigrationSql } from '../src/db/new-migration.js';
import { MIGRATIONS_DIR } from '../src/db/paths.js';
import { readMigrationList } from '../src/db/schema-engine.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'migrations-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('migrations', () => {
  it("are applied by Prisma's schema engine and recorded in _prisma_migrations like `migrate deploy`", async () => {
    const file = path.join(dir, 'nested', 'folder', 'app.db');
    const names = (await readMigrationList(MIGRATIONS_DIR)).migrationDirectories.map((m) => m.path);
    expect(names.length).toBeGreaterThan(0);
    expect(await migrateDatabase(`file:${file}`)).toEqual(names);
    // A second run applies nothing.
    expect(await migrateDatabase(`file:${file}`)).toEqual([]);
    const db = new Database(file, { readonly: true });
    try {
      const rows = db
        .prepare('SELECT migration_name, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations')
        .all() as { migration_name: string; finished_at: string | null; rolled_back_at: string | null }[];
      expect(rows.map((r) => r.migration_name)).toEqual(names);
      expect(rows.every((r) => r.finished_at !== null && r.rolled_back_at === null)).toBe(true);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
      expect(tables.map((t) => (t as { name: string }).name)).toEqual([
        'Account',
        'ApiKey',
        'Task',
        '_prisma_migrations',
      ]);
    } finally {
      db.close();
    }
  });

  it('match prisma/schema.prisma (no schema change without a migration)', async () => {
    expect(await pendingMigrationSql()).toBe('');
  });
});
