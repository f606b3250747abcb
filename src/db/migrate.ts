// Applies the provider's migrations with Prisma's schema engine, recording each
// in `_prisma_migrations` exactly as `prisma migrate deploy` does.
import type { SqlDriverAdapter } from '@prisma/driver-adapter-utils';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import { migrationAdapterFor } from './adapter.js';
import { migrationsDir, providerOf, schemaPaths } from './paths.js';
import { ensurePostgresSchema } from './postgres.js';
import { NO_FILTER, readMigrationList, readSchemaFiles, withSchemaEngine } from './schema-engine.js';

/**
 * Migrates the database at `url`; returns the names of the migrations it
 * applied. `upTo` stops after that migration (tests of a data migration
 * start from the schema before it).
 */
export async function migrateDatabase(url: string, { upTo }: { upTo?: string } = {}): Promise<string[]> {
  const provider = providerOf(url);
  if (provider === 'postgresql') await ensurePostgresSchema(url);
  const migrationsList = await readMigrationList(migrationsDir(provider));
  if (upTo !== undefined) {
    const last = migrationsList.migrationDirectories.findIndex((m) => m.path === upTo);
    if (last < 0) throw new Error(`No migration named ${upTo}`);
    migrationsList.migrationDirectories = migrationsList.migrationDirectories.slice(0, last + 1);
  }
  // The engine holds SQLite's file in EXCLUSIVE locking mode while it runs, which
  // fails against a server that has the file open: start it only when needed.
  if (await upToDate(url, migrationsList)) return [];
  const { adapter } = migrationAdapterFor(url);
  return withSchemaEngine(await readSchemaFiles(schemaPaths(provider)), adapter, async (engine) => {
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTER });
    return appliedMigrationNames;
  });
}

/**
 * True when `_prisma_migrations` records every migration folder as applied and
 * none as failed, read with one plain query. Anything else (no table yet, a
 * failed or pending migration, an unreadable file) is the engine's to apply or
 * to report.
 */
async function upToDate(url: string, list: MigrationList): Promise<boolean> {
  if (list.migrationDirectories.some((m) => m.migrationFile.content.tag !== 'ok')) return false;
  let connection: SqlDriverAdapter | undefined;
  try {
    connection = await migrationAdapterFor(url).adapter.connect();
    const { rows } = await connection.queryRaw({
      sql: `SELECT migration_name, CASE WHEN finished_at IS NULL THEN 'failed' ELSE 'applied' END
            FROM _prisma_migrations WHERE rolled_back_at IS NULL`,
      args: [],
      argTypes: [],
    });
    if (rows.some(([, state]) => state === 'failed')) return false;
    const applied = new Set(rows.map(([name]) => name));
    return list.migrationDirectories.every((m) => applied.has(m.path));
  } catch {
    return false;
  } finally {
    await connection?.dispose();
  }
}
