import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/postgresql/client.js';
import {
  type Database,
  type DatabaseOptions,
  type Db,
  prismaHotReads,
  prismaHotWrites,
  queryLog,
  TRANSACTION_LIMITS,
} from './client.js';

/**
 * Splits Prisma's `?schema=` parameter off a PostgreSQL URL: node-postgres
 * does not know it, the adapter takes it as an option.
 */
export function parsePostgresUrl(url: string): { connectionString: string; schema: string | undefined } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`Invalid schema name in DATABASE_URL: ${JSON.stringify(schema)}`);
  }
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}

function poolConfig(url: string, poolSize: number): pg.PoolConfig & { schema: string | undefined } {
  const { connectionString, schema } = parsePostgresUrl(url);
  return {
    connectionString,
    max: poolSize,
    schema,
    // Prisma qualifies its queries with the schema, but the schema engine's
    // own statements (_prisma_migrations, migration SQL) are unqualified.
    ...(schema ? { options: `-c search_path="${schema}"` } : {}),
  };
}

/** A driver adapter over a node-postgres pool for `url`. */
export function postgresAdapter(url: string, poolSize = 10): PrismaPg {
  const { schema, ...config } = poolConfig(url, poolSize);
  return new PrismaPg(config, { schema });
}

/**
 * node-postgres reports PostgreSQL's one-byte "char" type (pg_class.relkind
 * and friends) with OID 18, which @prisma/adapter-pg 7.10 cannot map, so the
 * schema engine's introspection (used to diff a migrated database against the
 * models) fails. Its values are already strings: report them as text.
 */
class CharAsTextClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query() has many overloads; results are adjusted in both forms.
  override query(...args: any[]): any {
    const fix = (r: pg.QueryResult | undefined) => {
      for (const field of r?.fields ?? []) if (field.dataTypeID === 18) field.dataTypeID = 25;
      return r;
    };
    const last = args.at(-1);
    if (typeof last === 'function') {
      // Callback form (pg.Pool#query uses it).
      args[args.length - 1] = (err: Error | null, r: pg.QueryResult) => last(err, fix(r));
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    // biome-ignore lint/suspicious/noExplicitAny: see above.
    const result = (super.query as (...a: unknown[]) => any)(...args);
    return typeof result?.then === 'function' ? result.then(fix) : result;
  }
}

/** The adapter for Prisma's schema engine (migrations, diffs) on PostgreSQL. */
export function postgresMigrationAdapter(url: string): PrismaPg {
  const { schema, ...config } = poolConfig(url, 2);
  return new PrismaPg(new pg.Pool({ ...config, Client: CharAsTextClient }), { schema, disposeExternalPool: true });
}

/**
 * One pooled client for reads and writes: every PostgreSQL connection sees
 * committed data only, and transactions run at the default READ COMMITTED
 * (the services' conditional writes and row locks are built for it).
 */
export async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const prisma = new PrismaClient({ adapter: postgresAdapter(url, options.poolSize), log: queryLog(options) });
  const onQuery = options.onQuery;
  if (onQuery) (prisma as PrismaClient<'query'>).$on('query', (e) => onQuery(e.query));
  await prisma.$connect();
  // Same models, same shape: see models.ts.
  const db = prisma as unknown as Db;
  return {
    provider: 'postgresql',
    read: db,
    hot: prismaHotReads(db),
    transaction: (fn) => db.$transaction(fn, TRANSACTION_LIMITS),
    write: (fn) => db.$transaction((tx) => fn(prismaHotWrites(tx, { postgres: true })), TRANSACTION_LIMITS),
    ping: async () => {
      await prisma.$queryRawUnsafe('SELECT 1');
    },
    close: () => prisma.$disconnect(),
  };
}

/** Creates the URL's `?schema=` if it does not exist (migrations run inside it). */
export async function ensurePostgresSchema(url: string): Promise<void> {
  const { connectionString, schema } = parsePostgresUrl(url);
  if (!schema) return;
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await client.end();
  }
}
