// Prisma's own schema engine, as WebAssembly, driven through a driver adapter.
// The Prisma CLI's migrate commands need a native engine binary that these
// machines cannot download; this is the same engine without the binary.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';

type Bindings = typeof import('@prisma/schema-engine-wasm');
type WasmExports = Record<string, unknown>;

// Node has WebAssembly; TypeScript's node types do not describe it.
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: Record<string, object>): Promise<{ instance: { exports: WasmExports } }>;
};

let bindings: Promise<Bindings> | undefined;

/**
 * The package's ESM entry imports a `.wasm` module, which Node 20 refuses; load
 * the JS glue and instantiate the WebAssembly ourselves (once per process).
 */
function loadBindings(): Promise<Bindings> {
  bindings ??= (async () => {
    const glueUrl = import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const glue = (await import(glueUrl)) as Bindings & {
      __wbg_set_wasm(exports: WasmExports): void;
    };
    const wasmPath = path.join(path.dirname(fileURLToPath(glueUrl)), 'schema_engine_bg.wasm');
    // The engine leaves a timer (10 s, seen on PostgreSQL) pending after it is
    // freed; unref its timers so they never keep a finished CLI alive.
    const imports: Record<string, unknown> = { ...glue };
    for (const [name, fn] of Object.entries(glue)) {
      if (name.startsWith('__wbg_setTimeout_') && typeof fn === 'function') {
        imports[name] = (...args: unknown[]) => {
          const timer = (fn as (...a: unknown[]) => unknown)(...args) as { unref?: () => void } | undefined;
          timer?.unref?.();
          return timer;
        };
      }
    }
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), { './schema_engine_bg.js': imports });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return bindings;
}

export interface SchemaFile {
  path: string;
  content: string;
}

export const NO_FILTER = { externalTables: [], externalEnums: [] };

export async function readSchemaFiles(paths: string[]): Promise<SchemaFile[]> {
  return Promise.all(paths.map(async (p) => ({ path: p, content: await readFile(p, 'utf8') })));
}

/**
 * Runs `work` with the schema engine on a database reached through `adapter`,
 * then frees the engine and closes every connection it opened: `free()` alone
 * leaves them open, and an open SQLite connection keeps its lock.
 */
export async function withSchemaEngine<T>(
  schemaFiles: SchemaFile[],
  adapter: SqlMigrationAwareDriverAdapterFactory,
  work: (engine: SchemaEngine) => Promise<T>,
  log: (message: string) => void = () => {},
): Promise<T> {
  const { SchemaEngine } = await loadBindings();
  const opened: SqlDriverAdapter[] = [];
  const track = async (connect: () => Promise<SqlDriverAdapter>) => {
    const connection = await connect();
    opened.push(connection);
    return connection;
  };
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    connect: () => track(() => adapter.connect()),
    connectToShadowDb: () => track(() => adapter.connectToShadowDb()),
  };
  const engine = await SchemaEngine.new(
    { datamodels: schemaFiles.map((f) => [f.path, f.content]) },
    log,
    bindMigrationAwareSqlAdapterFactory(tracked),
  );
  try {
    return await work(engine);
  } finally {
    engine.free();
    await Promise.all(opened.map((c) => c.dispose()));
  }
}

/** The migrations folder in the shape `prisma migrate deploy` hands to the engine. */
export async function readMigrationList(migrationsDir: string): Promise<MigrationList> {
  const baseDir = path.resolve(migrationsDir);
  const lockPath = 'migration_lock.toml';
  const lockContent = await readFile(path.join(baseDir, lockPath), 'utf8').catch(() => null);
  const entries = await readdir(baseDir, { withFileTypes: true }).catch(() => []);
  const dirs = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return {
    baseDir,
    lockfile: { path: lockPath, content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      dirs.map(async (name) => ({
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: await readFile(path.join(baseDir, name, 'migration.sql'), 'utf8').then(
            (value) => ({ tag: 'ok' as const, value }),
            (e: Error) => ({ tag: 'error' as const, value: e.message }),
          ),
        },
      })),
    ),
  };
}
