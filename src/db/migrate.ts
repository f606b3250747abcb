// Applies the provider's migrations with Prisma's schema engine, recording each
// in `_prisma_migrations` exactly as `prisma migrate deploy` does.
import { migrationAdapterFor } from './adapter.js';
import { migrationsDir, schemaPaths } from './paths.js';
import { ensurePostgresSchema } from './postgres.js';
import { NO_FILTER, readMigrationList, readSchemaFiles, withSchemaEngine } from './schema-engine.js';

/** Migrates the database at `url`; returns the names of the migrations it applied. */
export async function migrateDatabase(url: string): Promise<string[]> {
  const { provider, adapter } = migrationAdapterFor(url);
  if (provider === 'postgresql') await ensurePostgresSchema(url);
  const migrationsList = await readMigrationList(migrationsDir(provider));
  return withSchemaEngine(await readSchemaFiles(schemaPaths(provider)), adapter, async (engine) => {
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTER });
    return appliedMigrationNames;
  });
}
