import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { type Provider, providerOf } from './paths.js';
import { postgresMigrationAdapter } from './postgres.js';
import { sqliteAdapter } from './sqlite.js';

/** The driver adapter Prisma's schema engine uses for a DATABASE_URL, and which provider it is. */
export function migrationAdapterFor(url: string): {
  provider: Provider;
  adapter: SqlMigrationAwareDriverAdapterFactory;
} {
  const provider = providerOf(url);
  return { provider, adapter: provider === 'sqlite' ? sqliteAdapter(url) : postgresMigrationAdapter(url) };
}
