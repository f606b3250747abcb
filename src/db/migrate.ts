// Applies prisma/migrations with Prisma's schema engine, recording each in
// `_prisma_migrations` exactly as `prisma migrate deploy` does.
import { MIGRATIONS_DIR, SCHEMA_PATH } from './paths.js';
import { NO_FILTER, readMigrationList, readSchemaFiles, withSchemaEngine } from './schema-engine.js';
import { sqliteAdapter } from './sqlite.js';

/** Migrates the database at `url`; returns the names of the migrations it applied. */
export async function migrateDatabase(url: string): Promise<string[]> {
  const migrationsList = await readMigrationList(MIGRATIONS_DIR);
  return withSchemaEngine(await readSchemaFiles(SCHEMA_PATH), sqliteAdapter(url), async (engine) => {
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTER });
    return appliedMigrationNames;
  });
}
