import { fileURLToPath } from 'node:url';

export type Provider = 'sqlite' | 'postgresql';
export const PROVIDERS: readonly Provider[] = ['sqlite', 'postgresql'];

const prismaDir = new URL('../../prisma/', import.meta.url);
const file = (relative: string) => fileURLToPath(new URL(relative, prismaDir));

/** The shared models: the single source of truth for every provider. */
export const MODELS_PATH = file('models.prisma');

/** A provider's schema files: its datasource/generator header plus the shared models. */
export function schemaPaths(provider: Provider): string[] {
  return [file(`${provider}/schema.prisma`), MODELS_PATH];
}

/** A provider's migrations, applied in name order by Prisma's schema engine. */
export function migrationsDir(provider: Provider): string {
  return file(`${provider}/migrations/`);
}

/** Which provider a DATABASE_URL is for. */
export function providerOf(url: string): Provider {
  if (url.startsWith('file:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgresql';
  throw new Error(`Unsupported DATABASE_URL ${JSON.stringify(url)}: use file:<path> (SQLite) or postgresql://…`);
}
