import { fileURLToPath } from 'node:url';

const prismaDir = new URL('../../prisma/', import.meta.url);

/** The Prisma schema (source of truth for every model). */
export const SCHEMA_PATH = fileURLToPath(new URL('schema.prisma', prismaDir));
/** Migrations, applied in name order by Prisma's schema engine. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('migrations/', prismaDir));
